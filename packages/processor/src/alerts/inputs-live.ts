import { ClickHouseReadOnly } from "@rtoa/core"
import { Clock, Effect, Layer, Option } from "effect"
import { lagNow, Metrics } from "../metrics.ts"
import { AlertInputs, AlertInputsUnavailable } from "./inputs.ts"
import type { EventFilter } from "./rules.ts"

/**
 * What the rules observe, live: per-minute events and users from ClickHouse (the exact counts
 * table and the uniq states, on the read-only session, filters as query parameters), dead-letter
 * ratios from ingest_stats, lag and freshness from the processor's own metrics.
 */

const MINUTE = 60_000

const unavailable = (e: { readonly message: string }) =>
  new AlertInputsUnavailable({ message: e.message, cause: e })

const filterParams = (filter: EventFilter) => ({
  channel: filter.channel ?? "",
  source: filter.source ?? "",
  type: filter.type ?? "",
})

const filterSql = `({channel:String} = '' OR dimension_channel = {channel:String})
  AND ({source:String} = '' OR event_source = {source:String})
  AND ({type:String} = '' OR event_type = {type:String})`

/** Oldest first from the first minute with data; missing minutes after it are 0. */
export const perMinute = (rows: ReadonlyArray<{ m: number; v: number }>, from: number, minutes: number) => {
  const byMinute = new Map(rows.map((r) => [Number(r.m) * 1_000, Number(r.v)]))
  const all = Array.from({ length: minutes }, (_, i) => byMinute.get(from + i * MINUTE))
  const first = all.findIndex((v) => v !== undefined)
  return first < 0 ? [] : all.slice(first).map((v) => v ?? 0)
}

export const AlertInputsLive: Layer.Layer<AlertInputs, never, ClickHouseReadOnly | Metrics> = Layer.effect(
  AlertInputs,
  Effect.gen(function* () {
    const ch = yield* ClickHouseReadOnly
    const metrics = yield* Metrics
    const series = (select: string, table: string) => (filter: EventFilter, minutes: number) =>
      Effect.gen(function* () {
        const now = yield* Clock.currentTimeMillis
        const to = Math.floor(now / MINUTE) * MINUTE
        const from = to - minutes * MINUTE
        const rows = yield* ch.query<{ m: number; v: number }>(
          `SELECT toUInt32(time_window) AS m, ${select} AS v FROM ${table}
           WHERE time_window >= toDateTime({from:UInt32}, 'UTC') AND time_window < toDateTime({to:UInt32}, 'UTC')
             AND ${filterSql}
           GROUP BY m`,
          { from: from / 1_000, to: to / 1_000, ...filterParams(filter) },
        )
        return perMinute(rows, from, minutes)
      }).pipe(Effect.mapError(unavailable))
    return {
      eventsPerMinute: series("sum(events)", "metrics_minutely_counts FINAL"),
      usersPerMinute: series("uniqMerge(unique_users_state)", "metrics_minutely"),
      deadLettersAndRecords: (windowSeconds) =>
        Effect.gen(function* () {
          const now = Math.floor((yield* Clock.currentTimeMillis) / 1_000)
          const [row] = yield* ch.query<{ records: number; dead: number }>(
            `SELECT sum(consumed) AS records, sum(arraySum(mapValues(dead_letters))) AS dead FROM ingest_stats
             WHERE ts > toDateTime({from:UInt32}, 'UTC') AND ts <= toDateTime({to:UInt32}, 'UTC')`,
            { from: now - windowSeconds, to: now },
          )
          return { deadLetters: Number(row?.dead ?? 0), records: Number(row?.records ?? 0) }
        }).pipe(Effect.mapError(unavailable)),
      maxLagSeconds: Effect.map(Clock.currentTimeMillis, (now) => {
        const lag = lagNow(metrics, now)
        return lag.length === 0 ? Option.none() : Option.some(Math.max(...lag.map((l) => l.seconds)))
      }),
      freshnessMs: Effect.map(Clock.currentTimeMillis, (now) =>
        metrics.newestEventTime === undefined
          ? Option.none()
          : Option.some(Math.max(0, now - metrics.newestEventTime)),
      ),
    }
  }),
)
