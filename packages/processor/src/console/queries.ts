import type { ClickHouseClient } from "@rtoa/core"
import type {
  DimensionsResponse,
  HealthHistoryResponse,
  IntegrityResponse,
  MetricsResponse,
  RangeQuery,
} from "@rtoa/dashboard"
import { Effect } from "effect"
import { quantileMs } from "../sampler.ts"

/**
 * The console's reads. Every value a caller sends travels as a ClickHouse query parameter
 * ({name:Type}), never spliced into the SQL; they run on the read-only session and its limits.
 * Business numbers come from metrics_minutely_counts (exact, refreshed from the states) and the
 * uniq states (unique users, which do not add up across dimensions).
 */

export interface Range {
  readonly from: number
  readonly to: number
  readonly step: number
  readonly source: string
  readonly type: string
}

/** At most ~720 points, whole minutes, the range aligned to the step. */
export const normalizeRange = (q: RangeQuery): Range => {
  const span = Math.max(60, q.to - q.from)
  const step = q.step ?? Math.max(60, Math.ceil(span / 720 / 60) * 60)
  const from = Math.floor(q.from / step) * step
  const to = Math.max(from + step, Math.ceil(q.to / step) * step)
  return { from, to, step, source: q.source ?? "", type: q.type ?? "" }
}

const params = (r: Range, shift = 0) => ({
  from: r.from - shift,
  to: r.to - shift,
  step: r.step,
  source: r.source,
  type: r.type,
})

const window = `time_window >= toDateTime({from:UInt32}, 'UTC') AND time_window < toDateTime({to:UInt32}, 'UTC')`
const filters = `({source:String} = '' OR event_source = {source:String}) AND ({type:String} = '' OR event_type = {type:String})`
const bucket = (column: string) =>
  `toUInt32(toStartOfInterval(${column}, toIntervalSecond({step:UInt32}), 'UTC'))`

const times = (r: Range) =>
  Array.from({ length: Math.round((r.to - r.from) / r.step) }, (_, i) => r.from + i * r.step)

/** Values keyed by point time, laid out on the range's points (null where absent). */
const series = (r: Range, rows: ReadonlyArray<{ t: number; v: number }>) => {
  const byTime = new Map(rows.map((x) => [Number(x.t), Number(x.v)]))
  return times(r).map((t) => byTime.get(t) ?? null)
}

interface ChannelRow {
  readonly t: number
  readonly channel: string
  readonly v: number
}

const byChannel = (r: Range, rows: ReadonlyArray<ChannelRow>) => {
  const channels = [...new Set(rows.map((x) => x.channel))].sort()
  return Object.fromEntries(
    channels.map(
      (c) =>
        [
          c,
          series(
            r,
            rows.filter((x) => x.channel === c),
          ),
        ] as const,
    ),
  ) as Record<string, ReadonlyArray<number | null>>
}

const totals = (ch: ClickHouseClient, r: Range, shift: number) =>
  Effect.all([
    ch.query<{ t: number; v: number }>(
      `SELECT ${bucket("time_window")} AS t, sum(events) AS v FROM metrics_minutely_counts FINAL
       WHERE ${window} AND ${filters} GROUP BY t`,
      params(r, shift),
    ),
    ch.query<{ t: number; v: number }>(
      `SELECT ${bucket("time_window")} AS t, uniqMerge(unique_users_state) AS v FROM metrics_minutely
       WHERE ${window} AND ${filters} GROUP BY t`,
      params(r, shift),
    ),
  ]).pipe(
    // Shifted back: the points line up with the current window's.
    Effect.map(([events, users]) => ({
      eventsTotal: series(
        r,
        events.map((x) => ({ t: Number(x.t) + shift, v: x.v })),
      ),
      usersTotal: series(
        r,
        users.map((x) => ({ t: Number(x.t) + shift, v: x.v })),
      ),
    })),
  )

export const metricsQuery = (ch: ClickHouseClient, r: Range, compare: "none" | "1d" | "1w") =>
  Effect.gen(function* () {
    const [events, users, total, previous] = yield* Effect.all(
      [
        ch.query<ChannelRow>(
          `SELECT ${bucket("time_window")} AS t, dimension_channel AS channel, sum(events) AS v
           FROM metrics_minutely_counts FINAL WHERE ${window} AND ${filters} GROUP BY t, channel`,
          params(r),
        ),
        ch.query<ChannelRow>(
          `SELECT ${bucket("time_window")} AS t, dimension_channel AS channel, uniqMerge(unique_users_state) AS v
           FROM metrics_minutely WHERE ${window} AND ${filters} GROUP BY t, channel`,
          params(r),
        ),
        totals(ch, r, 0),
        compare === "none"
          ? Effect.succeed(undefined)
          : totals(ch, r, compare === "1d" ? 86_400 : 7 * 86_400),
      ],
      { concurrency: 2 },
    )
    const eventsByChannel = byChannel(r, events)
    const usersByChannel = byChannel(r, users)
    return {
      from: r.from,
      to: r.to,
      step: r.step,
      time: times(r),
      channels: [...new Set([...Object.keys(eventsByChannel), ...Object.keys(usersByChannel)])].sort(),
      events: eventsByChannel,
      users: usersByChannel,
      eventsTotal: total.eventsTotal,
      usersTotal: total.usersTotal,
      ...(previous === undefined || compare === "none" ? {} : { compare: { offset: compare, ...previous } }),
    } satisfies MetricsResponse
  })

export const dimensionsQuery = (ch: ClickHouseClient, r: Range) =>
  Effect.map(
    ch.query<{ channels: Array<string>; sources: Array<string>; types: Array<string> }>(
      `SELECT arraySort(groupUniqArray(dimension_channel)) AS channels, arraySort(groupUniqArray(event_source)) AS sources,
              arraySort(groupUniqArray(event_type)) AS types
       FROM metrics_minutely_counts WHERE ${window}`,
      params(r),
    ),
    ([row]): DimensionsResponse => ({
      channels: row?.channels ?? [],
      sources: row?.sources ?? [],
      types: row?.types ?? [],
    }),
  )

export const integrityQuery = (ch: ClickHouseClient, r: Range) =>
  Effect.gen(function* () {
    const [integrity, stored, deadLetters] = yield* Effect.all(
      [
        ch.query<{ t: number; received: number; late: number; lateness: number }>(
          `SELECT ${bucket("time_window")} AS t, sum(received) AS received, sum(late_events) AS late,
                  max(max_lateness_ms) AS lateness
           FROM integrity_minutely WHERE ${window} GROUP BY t`,
          params(r),
        ),
        ch.query<{ t: number; v: number }>(
          `SELECT ${bucket("time_window")} AS t, sum(events) AS v FROM metrics_minutely_counts FINAL WHERE ${window} GROUP BY t`,
          params(r),
        ),
        ch.query<{ t: number; v: number }>(
          `SELECT ${bucket("ts")} AS t, sum(arraySum(mapValues(dead_letters))) AS v FROM ingest_stats
           WHERE ts >= toDateTime({from:UInt32}, 'UTC') AND ts < toDateTime({to:UInt32}, 'UTC') GROUP BY t`,
          params(r),
        ),
      ],
      { concurrency: 2 },
    )
    const received = series(
      r,
      integrity.map((x) => ({ t: x.t, v: x.received })),
    )
    const storedSeries = series(r, stored)
    return {
      time: times(r),
      received,
      stored: storedSeries,
      duplicates: received.map((v, i) => {
        const s = storedSeries[i]
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
      deadLetters: series(r, deadLetters),
    } satisfies IntegrityResponse
  })

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
