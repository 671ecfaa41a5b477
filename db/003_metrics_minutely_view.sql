-- Readable per-minute totals for operators: events and unique users per minute and channel.
CREATE VIEW IF NOT EXISTS metrics_minutely_totals AS
SELECT
    time_window,
    dimension_channel,
    uniqExactMerge(event_count_state) AS events,
    uniqMerge(unique_users_state)     AS unique_users
FROM metrics_minutely
GROUP BY time_window, dimension_channel;
