-- Every valid event as received. ReplacingMergeTree collapses rows with the same event_id
-- (the sorting key) at merge time; `FINAL` gives the deduplicated view at query time.
-- kafka_* columns record where the row came from (replays and audits).
CREATE TABLE IF NOT EXISTS raw_events
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
ENGINE = ReplacingMergeTree
PARTITION BY toYYYYMMDD(event_time)
ORDER BY event_id;
