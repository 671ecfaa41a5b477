import { Effect } from "effect"
import type { BenchError } from "./procs.ts"
import type { Percentiles } from "./stats.ts"

/**
 * End-to-end latency, defined per event as
 *
 *   latency = raw_events.ingested_at - event_time
 *
 * ingested_at is the column DEFAULT now64(3), evaluated by ClickHouse when the insert block is
 * formed, i.e. just before the row becomes queryable (the part commit follows within
 * milliseconds; probes measure that gap). event_time is the producer's send clock: the producer
 * stamps `event_time = now` right before handing the batch to kafkajs, and with --late 0 every
 * event is on time, so event_time equals the send time up to the generate-to-send delay (measured
 * against Kafka's CreateTime record timestamp on a sample). Same host, same clock, no skew.
 * Probe events (event_id 'probe-...') are excluded here and measured separately.
 */

const toNumber = (v: unknown): number => (typeof v === "number" ? v : Number(v))

export const notProbe = "NOT startsWith(event_id, 'probe-')"

/** First event_time (epoch ms) and count of non-probe rows. */
export const firstEventSql = `SELECT toUnixTimestamp64Milli(min(event_time)) AS t0, count() AS n FROM raw_events WHERE ${notProbe}`

export const countSql = "SELECT count() AS n FROM raw_events"

/** Latency percentiles (ms) of the (non-probe) events matching `condition`. */
export const latencyWhereSql = (condition: string) => `SELECT
    count() AS n,
    quantilesExact(0.5, 0.95, 0.99)(d) AS q,
    max(d) AS mx,
    avg(d) AS mean
FROM (
    SELECT toUnixTimestamp64Milli(ingested_at) - toUnixTimestamp64Milli(event_time) AS d
    FROM raw_events
    WHERE ${notProbe} AND (${condition})
)`

/** Latency percentiles (ms) of events whose event_time lies in [fromMs, toMs). */
export const latencySql = (fromMs: number, toMs: number) =>
  latencyWhereSql(
    `event_time >= fromUnixTimestamp64Milli(toInt64(${Math.floor(fromMs)}), 'UTC')
      AND event_time < fromUnixTimestamp64Milli(toInt64(${Math.floor(toMs)}), 'UTC')`,
  )

/** Parses the latency row; undefined when the window holds no event. */
export const parseLatency = (row: Record<string, unknown> | undefined): Percentiles | undefined => {
  const n = toNumber(row?.n)
  const q = row?.q
  if (!(n > 0) || !Array.isArray(q)) return undefined
  return {
    n,
    p50: toNumber(q[0]),
    p95: toNumber(q[1]),
    p99: toNumber(q[2]),
    max: toNumber(row?.mx),
    mean: Math.round(toNumber(row?.mean) * 10) / 10,
  }
}

/**
 * Consumption rate from the data itself: events landed between the 10th and 90th percentile of
 * ingested_at, per second (start-up and the tail are cut off), and over first-to-last. A system
 * that wrote the whole backlog in one or two blocks has no such spread (all rows of a block share
 * ingested_at); then the rate runs from `readyAt` (the system answering) to the last row instead.
 */
export const drainSql = `SELECT
    count() AS n,
    toUnixTimestamp64Milli(min(ingested_at)) AS first,
    toUnixTimestamp64Milli(max(ingested_at)) AS last,
    arrayMap(x -> toUnixTimestamp64Milli(x), quantilesExact(0.1, 0.9)(ingested_at)) AS q
FROM raw_events`

export interface DrainRates {
  readonly n: number
  readonly first: number
  readonly last: number
  readonly p10: number
  readonly p90: number
  readonly eventsPerSec: number
  readonly overallPerSec: number
}

export const parseDrain = (row: Record<string, unknown> | undefined, readyAt = 0): DrainRates | undefined => {
  const n = toNumber(row?.n)
  const q = row?.q
  if (!(n > 0) || !Array.isArray(q)) return undefined
  const first = toNumber(row?.first)
  const last = toNumber(row?.last)
  const p10 = toNumber(q[0])
  const p90 = toNumber(q[1])
  return {
    n,
    first,
    last,
    p10,
    p90,
    eventsPerSec:
      p90 - p10 >= 100
        ? Math.round((0.8 * n * 1_000) / (p90 - p10))
        : last > readyAt
          ? Math.round((n * 1_000) / (last - readyAt))
          : 0,
    overallPerSec: last > first ? Math.round((n * 1_000) / (last - first)) : 0,
  }
}

export const queryNumber = (
  query: (sql: string) => Effect.Effect<ReadonlyArray<Record<string, unknown>>, BenchError>,
  sql: string,
  field = "n",
) => Effect.map(query(sql), (rows) => toNumber(rows[0]?.[field]))

/** The embedded engine's own tracked memory (bytes), to split a process's RSS. */
export const engineMemorySql = "SELECT value AS n FROM system.metrics WHERE metric = 'MemoryTracking'"
