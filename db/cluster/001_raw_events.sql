-- Cluster form of db/001_raw_events.sql (make ddl with CLICKHOUSE_CLUSTER set; README "叢集").
-- ${cluster} and ${database} are filled in by make ddl (CLICKHOUSE_CLUSTER, CLICKHOUSE_DATABASE);
-- {shard}, {replica}, {database} and {table} inside the engine's arguments are the server's macros.
-- Each table the programs use keeps its name as a Distributed table over a `_local` replicated
-- table on every node, so no query of the processor changes. packages/core/test/cluster-schema.test.ts
-- keeps the columns and keys equal to the single-node files.

-- Shard-local storage, replicated within the shard through Keeper.
CREATE TABLE IF NOT EXISTS raw_events_local ON CLUSTER '${cluster}'
(
    event_id          String,
    user_id           String,
    event_type        LowCardinality(String),
    dimension_channel LowCardinality(String),
    event_source      LowCardinality(String),
    event_time        DateTime64(3, 'UTC'),
    properties        String,
    kafka_partition   UInt32,
    kafka_offset      UInt64,
    ingested_at       DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}')
PARTITION BY toYYYYMMDD(event_time)
ORDER BY event_id;

-- Sharded by event_id: every copy of an event (a duplicate, a replay) lands on the same shard,
-- where ReplacingMergeTree collapses it. `SELECT ... FROM raw_events FINAL` runs FINAL on each
-- shard, and no event_id has rows on two shards, so the deduplicated view stays exact.
CREATE TABLE IF NOT EXISTS raw_events ON CLUSTER '${cluster}' AS raw_events_local
ENGINE = Distributed('${cluster}', '${database}', 'raw_events_local', cityHash64(event_id));
