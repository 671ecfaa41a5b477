import { DIMENSION_COLUMNS, DIMENSION_DEFAULT, DIMENSION_LIST } from "@rtoa/core"

/**
 * The peer: ClickHouse's own Kafka table engine feeding the same schema as the processor (db/*.sql):
 * a Kafka table on the same topic with its own consumer group, one materialized view into
 * raw_events (same columns; ingested_at is filled by its DEFAULT when the view's block lands) and
 * one into metrics_minutely (uniqState / uniqExactState per minute and dimensions), so the peer
 * does the same work the processor does.
 */

export type PeerProfile = "default" | "tuned"

export type EngineSettings = Readonly<Record<string, string | number>>

/**
 * `default`: only what is required, so every tunable is at ClickHouse's default (flush every
 * stream_flush_interval_ms = 7,500 ms, poll timeout stream_poll_timeout_ms = 500 ms, one consumer).
 * `tuned` for latency: flush every 100 ms, short polls, quick rescheduling; one consumer (two
 * cores, shared with the broker and the producer). 100 ms is half the processor's
 * BATCH_MAX_WAIT_MS (200 ms).
 */
export const profileSettings: Record<PeerProfile, EngineSettings> = {
  default: {},
  tuned: {
    kafka_flush_interval_ms: 100,
    kafka_poll_timeout_ms: 50,
    kafka_max_block_size: 65_536,
    kafka_num_consumers: 1,
    // After a poll that returned nothing the engine reschedules its streaming task after this long
    // (default 500 ms): at low rates that is the p99 latency, so it is tuned down too.
    kafka_consumer_reschedule_ms: 50,
  },
}

export interface PeerTopic {
  readonly brokers: string
  readonly topic: string
  readonly group: string
  readonly settings: EngineSettings
}

const literal = (v: string | number) =>
  typeof v === "number" ? String(v) : `'${v.replace(/\\/g, "\\\\").replace(/'/g, "\\'")}'`

const settingsList = (settings: EngineSettings) =>
  Object.entries(settings)
    .map(([k, v]) => {
      if (!/^[a-z_]+$/.test(k)) throw new RangeError(`not a setting name: ${k}`)
      return `${k} = ${literal(v)}`
    })
    .join(",\n    ")

/** Statements creating the Kafka table and its two views (after db/*.sql created the targets). */
export const peerStatements = (p: PeerTopic): ReadonlyArray<string> => {
  const required: EngineSettings = {
    kafka_broker_list: p.brokers,
    kafka_topic_list: p.topic,
    kafka_group_name: p.group,
    kafka_format: "JSONEachRow",
  }
  const eventTime = "parseDateTime64BestEffort(event_time, 3, 'UTC')"
  // The engine refuses column DEFAULTs; an absent field reads as '' and gets the contract's default here.
  const dim = (c: string) => `if(${c} = '', '${DIMENSION_DEFAULT}', ${c}) AS ${c}`
  const dims = DIMENSION_COLUMNS.map(dim).join(", ")
  return [
    `CREATE TABLE kafka_events
(
    event_id          String,
    user_id           String,
    ${DIMENSION_COLUMNS.map((c) => `${c.padEnd(17)} String,`).join("\n    ")}
    event_time        String,
    properties        String
)
ENGINE = Kafka
SETTINGS
    ${settingsList({ ...required, ...p.settings })}`,
    `CREATE MATERIALIZED VIEW kafka_raw_mv TO raw_events AS
SELECT event_id, user_id, ${dims},
       ${eventTime} AS event_time, if(properties = '', '{}', properties) AS properties,
       _partition AS kafka_partition, _offset AS kafka_offset
FROM kafka_events`,
    `CREATE MATERIALIZED VIEW kafka_metrics_mv TO metrics_minutely AS
SELECT toDateTime(toStartOfMinute(${eventTime}), 'UTC') AS time_window, ${dims},
       uniqState(user_id) AS unique_users_state,
       uniqExactState(event_id) AS event_count_state
FROM kafka_events
GROUP BY time_window, ${DIMENSION_LIST}`,
  ]
}
