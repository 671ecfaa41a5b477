-- Cluster form of db/006_console_rollup.sql (header of 001_raw_events.sql). The refresher's
-- INSERT ... SELECT reads metrics_minutely through its Distributed table (each shard merges its
-- states, the initiator merges theirs) and writes here through this one. Sharded by
-- (time_window, dimension_channel) like the other per-minute tables: a row and its later
-- refreshes land on one shard, where FINAL keeps the newest computed_at; the coarser sets'
-- rows (dimension_channel '') of a minute share one shard.
CREATE TABLE IF NOT EXISTS metrics_minutely_rollup_local ON CLUSTER '${cluster}'
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
ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}', computed_at)
PARTITION BY toYYYYMM(time_window)
ORDER BY (grouped, time_window, dimension_channel, event_source, event_type);

CREATE TABLE IF NOT EXISTS metrics_minutely_rollup ON CLUSTER '${cluster}' AS metrics_minutely_rollup_local
ENGINE = Distributed('${cluster}', '${database}', 'metrics_minutely_rollup_local', cityHash64(time_window, dimension_channel));

-- Shard-local, like the rows it copies: the full set's rows stay on the shard the
-- Distributed table above chose, which is the shard metrics_minutely_counts' own key picks.
CREATE MATERIALIZED VIEW IF NOT EXISTS metrics_minutely_counts_mv ON CLUSTER '${cluster}' TO metrics_minutely_counts_local AS
SELECT time_window, dimension_channel, event_source, event_type, events, users, computed_at
FROM metrics_minutely_rollup_local
WHERE grouped = 7;
