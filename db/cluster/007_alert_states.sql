-- Cluster form of db/007_alert_states.sql (header of 001_raw_events.sql). Sharded by rule: a
-- rule's rows live on one shard, where ReplacingMergeTree keeps the newest and FINAL reads it.
CREATE TABLE IF NOT EXISTS alert_states_local ON CLUSTER '${cluster}'
(
    rule       String,
    kind       LowCardinality(String),
    state      LowCardinality(String),
    since      DateTime64(3, 'UTC'),
    value      Nullable(Float64),
    threshold  Nullable(Float64),
    message    String,
    updated_at DateTime64(3, 'UTC')
)
ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}', updated_at)
ORDER BY rule;

CREATE TABLE IF NOT EXISTS alert_states ON CLUSTER '${cluster}' AS alert_states_local
ENGINE = Distributed('${cluster}', '${database}', 'alert_states_local', cityHash64(rule));
