import type { ClickHouseClient } from "@rtoa/core"
import type { HealthHistoryResponse, IntegrityResponse } from "@rtoa/dashboard"
import { Effect } from "effect"
import { quantileMs } from "../sampler.ts"
import { bucket, params, type Range, series, times, window } from "./range.ts"

export { dimensionsQuery, metricsQuery } from "./metrics.ts"
export { normalizeRange, type Range } from "./range.ts"

/**
 * The console's reads. Every value a caller sends travels as a ClickHouse query parameter
 * ({name:Type}), never spliced into the SQL; they run on the read-only session and its limits.
 * Business numbers come from metrics_minutely_rollup (finalized per minute, refreshed from the
 * states; metrics.ts), the pipeline's from integrity_minutely and ingest_stats.
 */

interface IntegrityRow {
  readonly kind: "received" | "stored" | "dead"
  readonly t: number
  readonly v: number
  readonly late: number
  readonly lateness: number
}

/**
 * Received vs stored, late events and dead letters per point: one statement over the three
 * tables (every open page reads this on each data version; one engine call instead of three).
 */
export const integrityQuery = (ch: ClickHouseClient, r: Range) =>
  Effect.map(
    ch.query<IntegrityRow>(
      `SELECT 'received' AS kind, ${bucket("time_window")} AS t, sum(received) AS v, sum(late_events) AS late,
              toUInt64(max(max_lateness_ms)) AS lateness
       FROM integrity_minutely WHERE ${window} GROUP BY t
       UNION ALL
       -- The minute's total set: one row per minute.
       SELECT 'stored', ${bucket("time_window")} AS t, sum(events), 0, 0 FROM metrics_minutely_rollup FINAL
       WHERE grouped = 0 AND ${window} GROUP BY t
       UNION ALL
       SELECT 'dead', ${bucket("ts")} AS t, sum(arraySum(mapValues(dead_letters))), 0, 0 FROM ingest_stats
       WHERE ts >= toDateTime({from:UInt32}, 'UTC') AND ts < toDateTime({to:UInt32}, 'UTC') GROUP BY t`,
      params(r),
    ),
    (rows): IntegrityResponse => {
      const of = (kind: IntegrityRow["kind"]) => rows.filter((x) => x.kind === kind)
      const integrity = of("received")
      const received = series(r, integrity)
      const stored = series(r, of("stored"))
      return {
        time: times(r),
        received,
        stored,
        duplicates: received.map((v, i) => {
          const s = stored[i]
          return v === null || s === null || s === undefined ? null : Math.max(0, v - s)
        }),
        lateEvents: series(
          r,
          integrity.map((x) => ({ t: x.t, v: x.late })),
        ),
        maxLatenessMs: series(
          r,
          integrity.map((x) => ({ t: x.t, v: x.lateness })),
        ),
        deadLetters: series(r, of("dead")),
      }
    },
  )

interface StatsRow {
  readonly t: number
  readonly seconds: number
  readonly consumed: number
  readonly written: number
  readonly dead_letters: Record<string, number>
  readonly batches: number
  readonly batch_rows_max: number
  readonly retries: number
  readonly latency: ReadonlyArray<number>
  readonly lag: number
}

export const healthHistoryQuery = (ch: ClickHouseClient, r: Range) =>
  Effect.map(
    ch.query<StatsRow>(
      `SELECT ${bucket("ts")} AS t, sum(seconds) AS seconds, sum(consumed) AS consumed, sum(written) AS written,
              sumMap(dead_letters) AS dead_letters, sum(batches) AS batches, max(max_batch_rows) AS batch_rows_max,
              sum(sink_retries) AS retries, sumForEach(latency_buckets) AS latency, max(max_lag_records) AS lag
       FROM ingest_stats WHERE ts >= toDateTime({from:UInt32}, 'UTC') AND ts < toDateTime({to:UInt32}, 'UTC')
       GROUP BY t`,
      params(r),
    ),
    (rows): HealthHistoryResponse => {
      // Per second over the step as observed (several processors: their seconds overlap, so rates
      // use the step's length).
      const rate = (f: (x: StatsRow) => number) =>
        series(
          r,
          rows.map((x) => ({ t: x.t, v: f(x) / r.step })),
        )
      const latency = (q: number) =>
        series(
          r,
          rows.flatMap((x) => {
            const counts = x.latency.map(Number)
            const v = quantileMs(counts, q)
            return v === null ? [] : [{ t: x.t, v }]
          }),
        )
      const reasons = [...new Set(rows.flatMap((x) => Object.keys(x.dead_letters)))].sort()
      return {
        step: r.step,
        time: times(r),
        consumedPerSecond: rate((x) => Number(x.consumed)),
        writtenPerSecond: rate((x) => Number(x.written)),
        deadLettersPerSecond: Object.fromEntries(
          reasons.map((reason) => [reason, rate((x) => Number(x.dead_letters[reason] ?? 0))] as const),
        ),
        latencyP50Ms: latency(0.5),
        latencyP95Ms: latency(0.95),
        latencyP99Ms: latency(0.99),
        batchRowsAvg: series(
          r,
          rows.map((x) => ({
            t: x.t,
            v: Number(x.batches) > 0 ? Number(x.consumed) / Number(x.batches) : 0,
          })),
        ),
        batchRowsMax: series(
          r,
          rows.map((x) => ({ t: x.t, v: Number(x.batch_rows_max) })),
        ),
        sinkRetries: series(
          r,
          rows.map((x) => ({ t: x.t, v: Number(x.retries) })),
        ),
        lagRecordsMax: series(
          r,
          rows.map((x) => ({ t: x.t, v: Number(x.lag) })),
        ),
      }
    },
  )
