-- Cluster form of db/004_console.sql (header of 001_raw_events.sql). Per-minute tables are
-- sharded by (time_window, dimension_channel), as in 002: a key's rows live on one shard.

-- A Distributed table has its own column list: the new columns go to both.
ALTER TABLE metrics_minutely_input_local ON CLUSTER '${cluster}' ADD COLUMN IF NOT EXISTS received UInt32 DEFAULT 0;
ALTER TABLE metrics_minutely_input_local ON CLUSTER '${cluster}' ADD COLUMN IF NOT EXISTS late_events UInt32 DEFAULT 0;
ALTER TABLE metrics_minutely_input_local ON CLUSTER '${cluster}' ADD COLUMN IF NOT EXISTS max_lateness_ms UInt32 DEFAULT 0;
ALTER TABLE metrics_minutely_input ON CLUSTER '${cluster}' ADD COLUMN IF NOT EXISTS received UInt32 DEFAULT 0;
ALTER TABLE metrics_minutely_input ON CLUSTER '${cluster}' ADD COLUMN IF NOT EXISTS late_events UInt32 DEFAULT 0;
ALTER TABLE metrics_minutely_input ON CLUSTER '${cluster}' ADD COLUMN IF NOT EXISTS max_lateness_ms UInt32 DEFAULT 0;

-- Sums and maxima per shard; readers add them up (GROUP BY) across shards like across parts.
CREATE TABLE IF NOT EXISTS integrity_minutely_local ON CLUSTER '${cluster}'
(
    time_window       DateTime('UTC'),
    dimension_channel LowCardinality(String),
    received          SimpleAggregateFunction(sum, UInt64),
    late_events       SimpleAggregateFunction(sum, UInt64),
    max_lateness_ms   SimpleAggregateFunction(max, UInt32)
)
ENGINE = ReplicatedAggregatingMergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}')
PARTITION BY toYYYYMM(time_window)
ORDER BY (time_window, dimension_channel);

CREATE TABLE IF NOT EXISTS integrity_minutely ON CLUSTER '${cluster}' AS integrity_minutely_local
ENGINE = Distributed('${cluster}', '${database}', 'integrity_minutely_local', cityHash64(time_window, dimension_channel));

CREATE MATERIALIZED VIEW IF NOT EXISTS integrity_minutely_mv ON CLUSTER '${cluster}' TO integrity_minutely_local AS
SELECT time_window, dimension_channel, received, late_events, max_lateness_ms
FROM metrics_minutely_input_local;

-- Written through the Distributed table by the counts refresher: a refreshed row lands on the
-- shard that holds the row it replaces, so ReplacingMergeTree(computed_at) keeps the newest.
CREATE TABLE IF NOT EXISTS metrics_minutely_counts_local ON CLUSTER '${cluster}'
(
    time_window       DateTime('UTC'),
    dimension_channel LowCardinality(String),
    event_source      LowCardinality(String),
    event_type        LowCardinality(String),
    events            UInt64,
    users             UInt64,
    computed_at       DateTime64(3, 'UTC')
)
ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}', computed_at)
PARTITION BY toYYYYMM(time_window)
ORDER BY (time_window, dimension_channel, event_source, event_type);

CREATE TABLE IF NOT EXISTS metrics_minutely_counts ON CLUSTER '${cluster}' AS metrics_minutely_counts_local
ENGINE = Distributed('${cluster}', '${database}', 'metrics_minutely_counts_local', cityHash64(time_window, dimension_channel));

-- One row per processor every few seconds: any shard will do; by processor keeps one's rows together.
CREATE TABLE IF NOT EXISTS ingest_stats_local ON CLUSTER '${cluster}'
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
ENGINE = ReplicatedMergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}')
PARTITION BY toYYYYMMDD(ts)
ORDER BY (ts, processor)
TTL ts + INTERVAL 30 DAY;

CREATE TABLE IF NOT EXISTS ingest_stats ON CLUSTER '${cluster}' AS ingest_stats_local
ENGINE = Distributed('${cluster}', '${database}', 'ingest_stats_local', cityHash64(processor));
