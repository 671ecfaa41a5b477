-- Per-minute metrics as mergeable aggregate states, one row per minute and dimension set per
-- insert; AggregatingMergeTree (and `FINAL`, or GROUP BY with -Merge) combines them.
--   unique_users_state: uniq(user_id), as the spec's QA query reads it (uniqMerge).
--   event_count_state:  uniqExact(event_id). A set, not a counter: a duplicated or replayed
--                       event adds nothing, so counts stay exact under at-least-once delivery.
CREATE TABLE IF NOT EXISTS metrics_minutely
(
    time_window        DateTime('UTC'),
    dimension_channel  LowCardinality(String),
    event_source       LowCardinality(String),
    event_type         LowCardinality(String),
    unique_users_state AggregateFunction(uniq, String),
    event_count_state  AggregateFunction(uniqExact, String)
)
ENGINE = AggregatingMergeTree
PARTITION BY toYYYYMM(time_window)
ORDER BY (time_window, dimension_channel, event_source, event_type);

-- The processor pre-aggregates each batch by minute and dimensions and inserts one row per group
-- with the group's distinct user_ids and event_ids; this view turns them into states.
-- The Null engine stores nothing: the rows only pass through the view.
CREATE TABLE IF NOT EXISTS metrics_minutely_input
(
    time_window       DateTime('UTC'),
    dimension_channel String,
    event_source      String,
    event_type        String,
    user_ids          Array(String),
    event_ids         Array(String)
)
ENGINE = Null;

CREATE MATERIALIZED VIEW IF NOT EXISTS metrics_minutely_mv TO metrics_minutely AS
SELECT
    time_window,
    dimension_channel,
    event_source,
    event_type,
    arrayReduce('uniqState', user_ids)      AS unique_users_state,
    arrayReduce('uniqExactState', event_ids) AS event_count_state
FROM metrics_minutely_input;
