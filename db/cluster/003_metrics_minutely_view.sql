-- Cluster form of db/003_metrics_minutely_view.sql: the same view on every node, over the
-- Distributed table (the states of all shards merge at the node that runs the query).
CREATE VIEW IF NOT EXISTS metrics_minutely_totals ON CLUSTER '${cluster}' AS
SELECT
    time_window,
    dimension_channel,
    uniqExactMerge(event_count_state) AS events,
    uniqMerge(unique_users_state)     AS unique_users
FROM metrics_minutely
GROUP BY time_window, dimension_channel;
