-- The operators' console: integrity per minute, exact counts that are cheap to read over a day,
-- and the pipeline's own health over time.

-- Per batch group, besides the distinct ids: how many valid records came in (duplicates and
-- replays included), how many arrived more than a minute after their event_time, and the latest.
ALTER TABLE metrics_minutely_input ADD COLUMN IF NOT EXISTS received UInt32 DEFAULT 0;
ALTER TABLE metrics_minutely_input ADD COLUMN IF NOT EXISTS late_events UInt32 DEFAULT 0;
ALTER TABLE metrics_minutely_input ADD COLUMN IF NOT EXISTS max_lateness_ms UInt32 DEFAULT 0;

CREATE TABLE IF NOT EXISTS integrity_minutely
(
    time_window       DateTime('UTC'),
    dimension_channel LowCardinality(String),
    received          SimpleAggregateFunction(sum, UInt64),
    late_events       SimpleAggregateFunction(sum, UInt64),
    max_lateness_ms   SimpleAggregateFunction(max, UInt32)
)
ENGINE = AggregatingMergeTree
PARTITION BY toYYYYMM(time_window)
ORDER BY (time_window, dimension_channel);

-- The same input rows, a second view: the processor still makes one insert per batch.
CREATE MATERIALIZED VIEW IF NOT EXISTS integrity_minutely_mv TO integrity_minutely AS
SELECT time_window, dimension_channel, received, late_events, max_lateness_ms
FROM metrics_minutely_input;

-- Exact events and users per minute and dimension set, recomputed by the processor from
-- metrics_minutely for the minutes it wrote (a few seconds behind). The uniqExact states are exact
-- but hold every event_id: merging a day of them costs seconds, reading this costs milliseconds.
CREATE TABLE IF NOT EXISTS metrics_minutely_counts
(
    time_window       DateTime('UTC'),
    dimension_channel LowCardinality(String),
    event_source      LowCardinality(String),
    event_type        LowCardinality(String),
    events            UInt64,
    users             UInt64,
    computed_at       DateTime64(3, 'UTC')
)
ENGINE = ReplacingMergeTree(computed_at)
PARTITION BY toYYYYMM(time_window)
ORDER BY (time_window, dimension_channel, event_source, event_type);

-- The pipeline every few seconds, per processor: what went through, how fast, how late.
-- latency_buckets counts events per end-to-end latency bucket (bounds in ms in the processor).
CREATE TABLE IF NOT EXISTS ingest_stats
(
    ts              DateTime('UTC'),
    processor       LowCardinality(String),
    seconds         Float32,
    consumed        UInt64,
    written         UInt64,
    dead_letters    Map(LowCardinality(String), UInt64),
    batches         UInt32,
    max_batch_rows  UInt32,
    sink_retries    UInt32,
    latency_buckets Array(UInt64),
    max_lag_records UInt64
)
ENGINE = MergeTree
PARTITION BY toYYYYMMDD(ts)
ORDER BY (ts, processor)
TTL ts + INTERVAL 30 DAY;
