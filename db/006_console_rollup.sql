-- Finalized events and users per minute for every combination of the console's filters, so a
-- day of unique users reads as cheaply as a day of events (1,440 rows per series) instead of
-- merging every uniq state of the range. Written by whoever refreshes metrics_minutely_counts
-- (core's counts.ts), in the same statement.
--
-- `grouped` says which dimensions a row is grouped by, as bits: 4 dimension_channel,
-- 2 event_source, 1 event_type (7: all three, the rows of metrics_minutely_counts; 0: the minute's
-- total). A dimension outside the set is '' in the row; readers select by `grouped`, never by ''.
--   events: the sum of the set's exact per-dimension-set counts (uniqExactMerge of the
--           event_id states), as the console and Grafana have always added them up.
--   users:  uniqMerge of every uniq state the set covers: equal to the same uniqMerge on
--           metrics_minutely with the same minute and filters (users do not add up).
CREATE TABLE IF NOT EXISTS metrics_minutely_rollup
(
    time_window       DateTime('UTC'),
    grouped           UInt8,
    dimension_channel LowCardinality(String),
    event_source      LowCardinality(String),
    event_type        LowCardinality(String),
    events            UInt64,
    users             UInt64,
    computed_at       DateTime64(3, 'UTC')
)
ENGINE = ReplacingMergeTree(computed_at)
PARTITION BY toYYYYMM(time_window)
-- A console read takes one or two sets over a time range: the set first.
ORDER BY (grouped, time_window, dimension_channel, event_source, event_type);

-- Minutes counted before this table existed are filled in by core's backfillRollup right after
-- these statements (packages/core/src/migrations.ts), an hour per statement.

-- metrics_minutely_counts stays what it was (Grafana and the alerts read it): the full set's rows.
CREATE MATERIALIZED VIEW IF NOT EXISTS metrics_minutely_counts_mv TO metrics_minutely_counts AS
SELECT time_window, dimension_channel, event_source, event_type, events, users, computed_at
FROM metrics_minutely_rollup
WHERE grouped = 7;
