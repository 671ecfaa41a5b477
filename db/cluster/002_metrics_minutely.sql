-- Cluster form of db/002_metrics_minutely.sql (header of 001_raw_events.sql).
--
-- Why the per-minute counts stay exact across shards: event_count_state is a uniqExact state, a
-- set of event_id hashes, and merging states is a set union whatever shard or part each came
-- from. A query on the Distributed table has every shard aggregate its own rows into states and
-- the initiator merge them (uniqExactMerge of the union), exactly what one node does with its
-- parts. An event counted on two shards (a replay in another batch) is one element of the union.
-- unique_users_state (uniq) merges the same way on one node and on many.
--
-- Sharded by (time_window, dimension_channel) here and in metrics_minutely_input below: both
-- are in the sorting key of every per-minute table the input's views fill (metrics_minutely,
-- integrity_minutely), so one key's rows are on one shard and `FINAL` there sees all of them.
CREATE TABLE IF NOT EXISTS metrics_minutely_local ON CLUSTER '${cluster}'
(
    time_window        DateTime('UTC'),
    dimension_channel  LowCardinality(String),
    event_source       LowCardinality(String),
    event_type         LowCardinality(String),
    unique_users_state AggregateFunction(uniq, String),
    event_count_state  AggregateFunction(uniqExact, String)
)
ENGINE = ReplicatedAggregatingMergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}')
PARTITION BY toYYYYMM(time_window)
ORDER BY (time_window, dimension_channel, event_source, event_type);

CREATE TABLE IF NOT EXISTS metrics_minutely ON CLUSTER '${cluster}' AS metrics_minutely_local
ENGINE = Distributed('${cluster}', '${database}', 'metrics_minutely_local', cityHash64(time_window, dimension_channel));

-- The processor inserts into metrics_minutely_input (Distributed); each shard's rows reach that
-- shard's Null table, whose views write the shard's local tables. A view fires on the replica
-- that receives the rows; the other replica gets the view's output by replication.
CREATE TABLE IF NOT EXISTS metrics_minutely_input_local ON CLUSTER '${cluster}'
(
    time_window       DateTime('UTC'),
    dimension_channel String,
    event_source      String,
    event_type        String,
    user_ids          Array(String),
    event_ids         Array(String)
)
ENGINE = Null;

CREATE TABLE IF NOT EXISTS metrics_minutely_input ON CLUSTER '${cluster}' AS metrics_minutely_input_local
ENGINE = Distributed('${cluster}', '${database}', 'metrics_minutely_input_local', cityHash64(time_window, dimension_channel));

CREATE MATERIALIZED VIEW IF NOT EXISTS metrics_minutely_mv ON CLUSTER '${cluster}' TO metrics_minutely_local AS
SELECT
    time_window,
    dimension_channel,
    event_source,
    event_type,
    arrayReduce('uniqState', user_ids)      AS unique_users_state,
    arrayReduce('uniqExactState', event_ids) AS event_count_state
FROM metrics_minutely_input_local;
