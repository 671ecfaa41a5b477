import { randomUUID } from "node:crypto"
import {
  ClickHouse,
  type ClickHouseClient,
  type ClickHouseError,
  columnList,
  DIMENSION_LIST,
  refreshMinuteCountsBetween,
} from "@rtoa/core"
import { clickhouseTime } from "@rtoa/pipeline"
import { Context, Duration, Effect, Layer } from "effect"
import { NothingToRebuild, RebuildInProgress } from "./errors.ts"
import { formatRange, minuteRange, monthPartitions, type TimeRange } from "./time.ts"

/**
 * Recomputes metrics_minutely for whole minutes from raw_events FINAL and swaps them in.
 *
 * 1. Snapshot: a staging table `CREATE TABLE ... AS metrics_minutely` gets each affected month
 *    partition with `ATTACH PARTITION ... FROM` (hard links: no copy, however large the month).
 * 2. In staging only: delete the range's minutes, insert them rebuilt from raw_events FINAL.
 * 3. Swap: `REPLACE PARTITION ... FROM staging` per month, atomic per partition, so a query sees
 *    either the old or the rebuilt month, never a half-rebuilt minute. (A partition left empty is
 *    dropped instead: ClickHouse 26 refuses to REPLACE from an empty source.)
 * 4. Catch-up: metric rows written to those months between the snapshot and the swap (by the
 *    live processor or a reprocess) were in parts the swap replaced, so they are gone. Their
 *    events are in raw_events, written just before them: the states of every event ingested
 *    since the snapshot minus a margin are added again, at its current (FINAL) version. States
 *    are sets, so re-adding what is already there changes nothing. Until this insert lands
 *    (milliseconds), a query can miss those racing writes, never the rebuilt minutes.
 */

export interface MetricTotals {
  /** Distinct (minute, dimensions) groups. */
  readonly groups: number
  /** Distinct events (uniqExact over the event_id states). */
  readonly events: number
}

export interface RebuildSummary {
  /** The whole minutes rebuilt: [floor(from), ceil(to)). */
  readonly minutes: TimeRange
  readonly partitions: ReadonlyArray<string>
  /** raw_events FINAL in those minutes: what the metrics become. */
  readonly raw: MetricTotals & { readonly users: number }
  readonly before: MetricTotals
  /** Undefined for a preview. */
  readonly after: MetricTotals | undefined
  /** Events ingested since the snapshot minus the margin, whose states were added again. */
  readonly caughtUp: number
  /** Start of that catch-up window (epoch ms, ClickHouse's clock). */
  readonly caughtUpSince: number | undefined
}

export interface RebuildOptions {
  /** Runs when staging is complete, just before the swap (tests write concurrently here). */
  readonly beforeSwap?: Effect.Effect<void, ClickHouseError>
  /** How long before the snapshot a raw row may have been written and its metrics not yet. */
  readonly catchUpMargin?: Duration.DurationInput
}

export interface MetricsRebuildService {
  /** What a rebuild would change; changes nothing. */
  readonly preview: (range: TimeRange) => Effect.Effect<RebuildSummary, ClickHouseError | NothingToRebuild>
  readonly rebuild: (
    range: TimeRange,
    options?: RebuildOptions,
  ) => Effect.Effect<RebuildSummary, ClickHouseError | NothingToRebuild | RebuildInProgress>
}

export class MetricsRebuild extends Context.Tag("rtoa/reprocessor/MetricsRebuild")<
  MetricsRebuild,
  MetricsRebuildService
>() {}

export const STAGING_PREFIX = "metrics_minutely_rebuild_"
const COLUMNS = columnList("metrics_minutely")
/** A metric row's key: the minute and the dimensions. */
const GROUP_KEY = `time_window, ${DIMENSION_LIST}`

const at = (ms: number) => `toDateTime('${clickhouseTime(ms).slice(0, 19)}', 'UTC')`
const within = (column: string, r: TimeRange) => `${column} >= ${at(r.fromMs)} AND ${column} < ${at(r.toMs)}`

/** Metric rows (states) computed from raw_events rows matching `where`. */
const statesFromRaw = (where: string, final: boolean) =>
  `SELECT toDateTime(toStartOfMinute(event_time), 'UTC') AS time_window, ${DIMENSION_LIST},
          uniqState(user_id) AS unique_users_state, uniqExactState(event_id) AS event_count_state
   FROM raw_events${final ? " FINAL" : ""} WHERE ${where} GROUP BY ${GROUP_KEY}`

export const makeMetricsRebuild = (ch: ClickHouseClient): MetricsRebuildService => {
  const num = (v: unknown) => Number(v ?? 0)

  const rawTotals = (m: TimeRange) =>
    Effect.map(
      ch.query<{ events: string; users: string; groups: string }>(
        `SELECT count() AS events, uniqExact(user_id) AS users,
                uniqExact(toStartOfMinute(event_time), ${DIMENSION_LIST}) AS groups
         FROM raw_events FINAL WHERE ${within("event_time", m)}`,
      ),
      (rows) => ({ events: num(rows[0]?.events), users: num(rows[0]?.users), groups: num(rows[0]?.groups) }),
    )

  const metricTotals = (m: TimeRange): Effect.Effect<MetricTotals, ClickHouseError> =>
    Effect.map(
      ch.query<{ groups: string; events: string }>(
        `SELECT uniqExact(${GROUP_KEY}) AS groups, uniqExactMerge(event_count_state) AS events
         FROM metrics_minutely WHERE ${within("time_window", m)}`,
      ),
      (rows) => ({ groups: num(rows[0]?.groups), events: num(rows[0]?.events) }),
    )

  const inspect = (range: TimeRange) =>
    Effect.gen(function* () {
      const minutes = minuteRange(range)
      const raw = yield* rawTotals(minutes)
      const before = yield* metricTotals(minutes)
      if (raw.events === 0) {
        return yield* new NothingToRebuild({
          message:
            `raw_events has no events in ${formatRange(minutes)}: nothing to rebuild from, nothing was changed ` +
            `(metrics_minutely holds ${before.groups} group(s), ${before.events} event(s) there; a rebuild would only erase them)`,
        })
      }
      return { minutes, partitions: monthPartitions(minutes), raw, before }
    })

  /** Leftover staging tables: a rebuild running elsewhere, or one that was killed. */
  const clearLeftovers = Effect.gen(function* () {
    const rows = yield* ch.query<{ name: string }>(
      "SELECT name FROM system.tables WHERE database = currentDatabase() AND startsWith(name, {prefix:String})",
      { prefix: STAGING_PREFIX },
    )
    for (const { name } of rows) {
      // The embedded store admits one process, this one: a leftover can only be from a killed run.
      if (ch.mode === "Embedded") yield* ch.command(`DROP TABLE IF EXISTS ${name} SYNC`)
      else
        return yield* new RebuildInProgress({
          message:
            `staging table ${name} exists: another rebuild-metrics is running, or one was killed. ` +
            `Nothing was changed. If none is running, drop it (DROP TABLE ${name}) and run this again.`,
        })
    }
  })

  const rebuildWith = (
    ctx: Effect.Effect.Success<ReturnType<typeof inspect>>,
    staging: string,
    options: RebuildOptions,
  ) =>
    Effect.gen(function* () {
      const { minutes, partitions } = ctx
      const snapshotMs = num(
        (yield* ch.query<{ t: string }>("SELECT toUnixTimestamp64Milli(now64(3)) AS t"))[0]?.t,
      )
      for (const p of partitions)
        yield* ch.command(`ALTER TABLE ${staging} ATTACH PARTITION ID '${p}' FROM metrics_minutely`)
      yield* ch.command(
        `ALTER TABLE ${staging} DELETE WHERE ${within("time_window", minutes)} SETTINGS mutations_sync = 2`,
      )
      yield* ch.command(
        `INSERT INTO ${staging} (${COLUMNS}) ${statesFromRaw(within("event_time", minutes), true)}`,
      )
      if (options.beforeSwap !== undefined) yield* options.beforeSwap
      // From the first swap to the end of the catch-up, an interrupt (Ctrl-C) waits: stopping
      // in between could drop writes that raced the swap.
      return yield* Effect.uninterruptible(
        Effect.gen(function* () {
          for (const p of partitions) {
            const rows = yield* ch.query<{ n: string }>(
              `SELECT count() AS n FROM ${staging} WHERE _partition_id = {p:String}`,
              { p },
            )
            yield* ch.command(
              num(rows[0]?.n) > 0
                ? `ALTER TABLE metrics_minutely REPLACE PARTITION ID '${p}' FROM ${staging}`
                : `ALTER TABLE metrics_minutely DROP PARTITION ID '${p}'`,
            )
          }
          // Every event touched since the snapshot (minus a margin), at its current (FINAL) version.
          // The id lookup scans one column; FINAL then reads only those keys (ORDER BY event_id).
          const marginMs = Duration.toMillis(Duration.decode(options.catchUpMargin ?? "10 minutes"))
          const months = `toYYYYMM(event_time) IN (${partitions.join(", ")})`
          const touched = `event_id IN (SELECT event_id FROM raw_events
                             WHERE ingested_at >= fromUnixTimestamp64Milli(toInt64(${snapshotMs - marginMs}), 'UTC') AND ${months})
                           AND ${months}`
          const caughtUp = num(
            (yield* ch.query<{ n: string }>(`SELECT count() AS n FROM raw_events FINAL WHERE ${touched}`))[0]
              ?.n,
          )
          if (caughtUp > 0)
            yield* ch.command(`INSERT INTO metrics_minutely (${COLUMNS}) ${statesFromRaw(touched, true)}`)
          return { caughtUp, caughtUpSince: snapshotMs - marginMs }
        }),
      )
    })

  return {
    preview: (range) =>
      Effect.map(
        inspect(range),
        (ctx): RebuildSummary => ({ ...ctx, after: undefined, caughtUp: 0, caughtUpSince: undefined }),
      ),
    rebuild: (range, options = {}) =>
      Effect.gen(function* () {
        const ctx = yield* inspect(range)
        yield* clearLeftovers
        const staging = `${STAGING_PREFIX}${Date.now()}_${randomUUID().slice(0, 8)}`
        const catchUp = yield* Effect.acquireUseRelease(
          ch.command(`CREATE TABLE ${staging} AS metrics_minutely`),
          () => rebuildWith(ctx, staging, options),
          () => ch.command(`DROP TABLE IF EXISTS ${staging} SYNC`).pipe(Effect.ignore),
        )
        // The console reads exact counts from metrics_minutely_counts: recompute the rebuilt minutes.
        yield* refreshMinuteCountsBetween(ch, ctx.minutes.fromMs, ctx.minutes.toMs)
        const after = yield* metricTotals(ctx.minutes)
        return { ...ctx, after, ...catchUp }
      }),
  }
}

export const MetricsRebuildLive: Layer.Layer<MetricsRebuild, never, ClickHouse> = Layer.effect(
  MetricsRebuild,
  Effect.map(ClickHouse, makeMetricsRebuild),
)
