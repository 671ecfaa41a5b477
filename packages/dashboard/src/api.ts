import { Schema } from "effect"

/**
 * The operators' console JSON API: one definition, used by the processor to validate requests
 * and encode answers, and (as types only) by the browser app. Times are epoch seconds (UTC) on
 * the wire; the page shows them in the viewer's time zone. Every route but /api/login needs the
 * endpoint's bearer token or the session cookie /api/login sets.
 */

/** Epoch seconds from a query parameter ("1733000000") or ISO-8601 with an offset. */
const TimeParam = Schema.Union(
  Schema.NumberFromString.pipe(Schema.int(), Schema.between(946_684_800, 4_102_444_800)),
  // Schema.Date refuses an invalid date (DateFromString would let one through as NaN).
  Schema.Date.pipe(
    Schema.transform(Schema.Number, {
      strict: true,
      decode: (d) => Math.floor(d.getTime() / 1_000),
      encode: (s) => new Date(s * 1_000),
    }),
  ),
)

const Step = Schema.NumberFromString.pipe(Schema.int(), Schema.between(60, 86_400))
const Dimension = Schema.String.pipe(Schema.maxLength(64))

/** GET /api/metrics, /api/integrity, /api/health/history: a range, a step and filters. */
export const RangeQuery = Schema.Struct({
  from: TimeParam,
  to: TimeParam,
  /** Seconds per point, a multiple of 60 (default: a minute up to 24 h, else at most 1,440 points). */
  step: Schema.optional(Step),
  /** Filters on the business panel: one event_source and/or one event_type. */
  source: Schema.optional(Dimension),
  type: Schema.optional(Dimension),
  /** Also return the same window shifted back by a day or a week. */
  compare: Schema.optional(Schema.Literal("none", "1d", "1w")),
})
export type RangeQuery = typeof RangeQuery.Type

/** Per point of a series; null where there is no data. */
const Series = Schema.Array(Schema.NullOr(Schema.Number))

/** GET /api/metrics: per-minute events (exact) and unique users, stacked by dimension_channel. */
export const MetricsResponse = Schema.Struct({
  from: Schema.Number,
  to: Schema.Number,
  step: Schema.Number,
  /** Start of each point (epoch seconds). */
  time: Schema.Array(Schema.Number),
  channels: Schema.Array(Schema.String),
  /** channel -> events per point (exact: distinct event_ids). */
  events: Schema.Record({ key: Schema.String, value: Series }),
  /** channel -> unique users per point (uniq, as the spec's QA query). */
  users: Schema.Record({ key: Schema.String, value: Series }),
  /** All channels together (a user in two channels counts once). */
  eventsTotal: Series,
  usersTotal: Series,
  compare: Schema.optional(
    Schema.Struct({
      offset: Schema.Literal("1d", "1w"),
      eventsTotal: Series,
      usersTotal: Series,
    }),
  ),
})
export type MetricsResponse = typeof MetricsResponse.Type

/** GET /api/dimensions?from&to: the values the filters offer. */
export const DimensionsResponse = Schema.Struct({
  channels: Schema.Array(Schema.String),
  sources: Schema.Array(Schema.String),
  types: Schema.Array(Schema.String),
})
export type DimensionsResponse = typeof DimensionsResponse.Type

export const ProcessorState = Schema.Literal("starting", "running", "backing_off", "stalled", "failed")

/** GET /api/health, and the `health` event of /api/stream every second. */
export const HealthResponse = Schema.Struct({
  state: ProcessorState,
  since: Schema.Number,
  reason: Schema.optional(Schema.String),
  lastCommit: Schema.optional(Schema.Number),
  /** Epoch seconds of this snapshot (the server's clock). */
  now: Schema.Number,
  /** Rates over the last 10 seconds. */
  consumedPerSecond: Schema.Number,
  writtenPerSecond: Schema.Number,
  deadLettersPerSecond: Schema.Record({ key: Schema.String, value: Schema.Number }),
  /** Per partition: records behind the high watermark and about how long they waited (s). */
  lag: Schema.Array(
    Schema.Struct({ partition: Schema.Number, records: Schema.Number, seconds: Schema.Number }),
  ),
  /** End-to-end latency (Kafka timestamp -> ClickHouse acknowledged) over the last minute, ms. */
  latencyMs: Schema.Struct({
    p50: Schema.NullOr(Schema.Number),
    p95: Schema.NullOr(Schema.Number),
    p99: Schema.NullOr(Schema.Number),
  }),
  /** Records per batch over the last minute. */
  batchRows: Schema.Struct({ avg: Schema.NullOr(Schema.Number), max: Schema.NullOr(Schema.Number) }),
  sinkRetriesTotal: Schema.Number,
  /** Age of the newest event written (now - its event_time), ms; null before the first write. */
  freshnessMs: Schema.NullOr(Schema.Number),
  freshnessSloMs: Schema.Number,
  /** Bumped on every commit: the page refetches the business panels when it changes. */
  dataVersion: Schema.Number,
})
export type HealthResponse = typeof HealthResponse.Type

/** GET /api/health/history: the pipeline per step, from the processor's own stats table. */
export const HealthHistoryResponse = Schema.Struct({
  /** Seconds per point. */
  step: Schema.Number,
  time: Schema.Array(Schema.Number),
  consumedPerSecond: Series,
  writtenPerSecond: Series,
  deadLettersPerSecond: Schema.Record({ key: Schema.String, value: Series }),
  latencyP50Ms: Series,
  latencyP95Ms: Series,
  latencyP99Ms: Series,
  batchRowsAvg: Series,
  batchRowsMax: Series,
  sinkRetries: Series,
  lagRecordsMax: Series,
})
export type HealthHistoryResponse = typeof HealthHistoryResponse.Type

/** GET /api/integrity: per event-time minute, what came in and what was kept. */
export const IntegrityResponse = Schema.Struct({
  time: Schema.Array(Schema.Number),
  /** Valid records received (duplicates and replays included). */
  received: Series,
  /** Distinct events stored (exact). */
  stored: Series,
  /** received - stored: duplicates absorbed by the event_id sets. */
  duplicates: Series,
  /** Events that arrived more than a minute after their event_time, and the latest of them (ms). */
  lateEvents: Series,
  maxLatenessMs: Series,
  /** Dead letters per minute of arrival. */
  deadLetters: Series,
})
export type IntegrityResponse = typeof IntegrityResponse.Type

export const DeadLetterEntry = Schema.Struct({
  /** When it was dead-lettered (epoch seconds). */
  at: Schema.Number,
  reason: Schema.String,
  detail: Schema.String,
  topic: Schema.String,
  partition: Schema.Number,
  offset: Schema.String,
  /** Original payload size in bytes. */
  size: Schema.Number,
  /** The payload as escaped text (control characters as \\uXXXX): display it as text, never HTML. */
  preview: Schema.String,
})
export type DeadLetterEntry = typeof DeadLetterEntry.Type

/** GET /api/dead-letters?limit=N */
export const DeadLettersResponse = Schema.Struct({
  /** Since the processor started, by reason. */
  counts: Schema.Record({ key: Schema.String, value: Schema.Number }),
  latest: Schema.Array(DeadLetterEntry),
})
export type DeadLettersResponse = typeof DeadLettersResponse.Type

export const AlertState = Schema.Literal("ok", "pending", "firing", "resolved")

export const AlertStatus = Schema.Struct({
  name: Schema.String,
  kind: Schema.String,
  description: Schema.String,
  state: AlertState,
  /** When it entered this state (epoch seconds). */
  since: Schema.Number,
  /** The observed value at the last evaluation and the rule's threshold, when they apply. */
  value: Schema.NullOr(Schema.Number),
  threshold: Schema.NullOr(Schema.Number),
  message: Schema.String,
})
export type AlertStatus = typeof AlertStatus.Type

/** GET /api/alerts */
export const AlertsResponse = Schema.Struct({
  evaluatedAt: Schema.NullOr(Schema.Number),
  alerts: Schema.Array(AlertStatus),
})
export type AlertsResponse = typeof AlertsResponse.Type

/** POST /api/login: the endpoint's token, exchanged for an HttpOnly, SameSite=Strict cookie. */
export const LoginRequest = Schema.Struct({ token: Schema.String.pipe(Schema.maxLength(512)) })
