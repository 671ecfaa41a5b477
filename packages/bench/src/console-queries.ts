import * as path from "node:path"
import {
  applyMigrations,
  type ClickHouseClient,
  type ClickHouseConfig,
  makeClickHouse,
  makeReadOnlyClickHouse,
  QueryLimitsConfig,
  refreshMinuteCountsBetween,
} from "@rtoa/core"
import { LATENCY_BUCKETS } from "@rtoa/processor"
import {
  dimensionsQuery,
  healthHistoryQuery,
  integrityQuery,
  metricsQuery,
  normalizeRange,
  type Range,
} from "@rtoa/processor/console/queries"
import { ConfigProvider, Effect } from "effect"
import { judgeRuns } from "./console-cost.ts"
import {
  type HourSpec,
  ingestStatsSql,
  integritySql,
  metricsSql,
  previousDaySql,
  trafficMix,
} from "./console-synth.ts"
import type { ConsoleQueries, PanelTiming } from "./results.ts"
import type { BenchContext } from "./systems.ts"

/**
 * The console's panel queries on a day of data: a fresh embedded store of its own (in this
 * process, as the core's integration tests open one), `hours` at `eventsPerSec` synthesized into
 * the tables the console reads (counts through core's real refresh path), then each of the
 * processor's console queries timed on the read-only session with the endpoint's default limits,
 * for the ranges the page asks for: 5 runs after one warm-up.
 */

const RUNS = 5
const USERS = 5_000

const seconds = (ms: number) => Math.round(ms / 100) / 10

const tableSizes = (ch: ClickHouseClient) =>
  Effect.map(
    ch.query<{ table: string; parts: string; bytes: string }>(
      `SELECT table, count() AS parts, sum(bytes_on_disk) AS bytes FROM system.parts
       WHERE active AND database = currentDatabase() AND table != 'schema_migrations' GROUP BY table ORDER BY table`,
    ),
    (rows) =>
      rows.map((r) => ({
        table: r.table,
        parts: Number(r.parts),
        mb: Math.round(Number(r.bytes) / 1e5) / 10,
      })),
  )

interface Panel {
  readonly panel: string
  readonly range: string
  readonly r: Range
  readonly run: Effect.Effect<number, { readonly message: string }>
}

/** The panels the page shows, for a 24 h and a 1 h range ending at `end`, as the API would ask. */
const panels = (ro: ClickHouseClient, end: number, filter: { source: string; type: string }) => {
  const points = <A extends { readonly time: ReadonlyArray<number> }>(
    e: Effect.Effect<A, { message: string }>,
  ) => Effect.map(e, (a) => a.time.length)
  const out: Array<Panel> = []
  for (const [range, span] of [
    ["24 h", 86_400],
    ["1 h", 3_600],
  ] as const) {
    const r = normalizeRange({ from: end - span, to: end })
    out.push(
      { panel: "metrics", range, r, run: points(metricsQuery(ro, r, "none")) },
      {
        panel: `metrics, filtered (${filter.source}, ${filter.type})`,
        range,
        r,
        run: points(metricsQuery(ro, { ...r, ...filter }, "none")),
      },
      { panel: "metrics, compare=1d", range, r, run: points(metricsQuery(ro, r, "1d")) },
      {
        panel: "dimensions",
        range,
        r,
        run: Effect.map(dimensionsQuery(ro, r), (d) => d.channels.length + d.sources.length + d.types.length),
      },
      { panel: "integrity", range, r, run: points(integrityQuery(ro, r)) },
      { panel: "health history", range, r, run: points(healthHistoryQuery(ro, r)) },
    )
  }
  // The page's second metrics request on every refresh: the last complete minute.
  const minute = normalizeRange({ from: end - 60, to: end, step: 60 })
  out.push({
    panel: "metrics",
    range: "last minute",
    r: minute,
    run: points(metricsQuery(ro, minute, "none")),
  })
  return out
}

const timePanel = (p: Panel) =>
  Effect.gen(function* () {
    yield* p.run
    const runsMs: Array<number> = []
    let points = 0
    for (let i = 0; i < RUNS; i++) {
      const t0 = performance.now()
      points = yield* p.run
      runsMs.push(Math.round((performance.now() - t0) * 10) / 10)
    }
    return { panel: p.panel, range: p.range, stepS: p.r.step, points, runsMs, ...judgeRuns(runsMs) }
  })

export const consoleQueriesRun = (ctx: BenchContext, hours: number, eventsPerSec: number) =>
  Effect.scoped(
    Effect.gen(function* () {
      const started = Date.now()
      const config: ClickHouseConfig = {
        _tag: "Embedded",
        dataPath: path.join(ctx.dirFor("console-queries"), "chdb"),
        database: "default",
      }
      const ch = yield* makeClickHouse(config)
      yield* applyMigrations(ch, path.join(ctx.root, "db"))
      const mix = trafficMix()
      const end = Math.ceil(Date.now() / 60_000) * 60
      const start = end - hours * 3_600
      const stagesMs: Record<string, number> = {}
      const stage = <A, E, R>(name: string, e: Effect.Effect<A, E, R>) =>
        Effect.gen(function* () {
          const t0 = Date.now()
          const a = yield* e
          stagesMs[name] = (stagesMs[name] ?? 0) + (Date.now() - t0)
          return a
        })
      yield* ctx.log(
        `console queries: synthesizing ${hours} h at ${eventsPerSec}/s (${((hours * 3_600 * eventsPerSec) / 1e6).toFixed(1)} M events, ${mix.length} dimension sets, ${USERS} users)${hours < 24 ? " (--quick: not the 24 h of the target)" : ""}`,
      )
      for (let h = 0; h < hours; h++) {
        const spec: HourSpec = { from: start + h * 3_600, eventsPerSec, users: USERS, mix }
        yield* stage("metrics_minutely states", ch.command(metricsSql(spec)))
        yield* stage(
          "counts refresh (metrics_minutely_rollup)",
          refreshMinuteCountsBetween(ch, spec.from * 1_000, (spec.from + 3_600) * 1_000),
        )
        yield* stage("integrity_minutely", ch.command(integritySql(spec)))
        yield* stage("ingest_stats", ch.command(ingestStatsSql(spec, LATENCY_BUCKETS)))
        if ((h + 1) % 6 === 0 || h + 1 === hours)
          yield* ctx.log(
            `console queries: ${h + 1}/${hours} h synthesized (${seconds(Date.now() - started)} s)`,
          )
      }
      yield* stage(
        "previous day (compare=1d)",
        Effect.forEach(previousDaySql(start, end), (sql) => ch.command(sql)),
      )
      const synthesisS = seconds(Date.now() - started)
      // Merges of the bulk inserts would compete with the queries: an artifact of synthesis.
      yield* ch.command("SYSTEM STOP MERGES")
      const tables = yield* tableSizes(ch)
      yield* ctx.log(
        `console queries: synthesis took ${synthesisS} s; ${tables.map((t) => `${t.table} ${t.parts} parts ${t.mb} MB`).join(", ")}`,
      )

      const limits = yield* Effect.withConfigProvider(QueryLimitsConfig, ConfigProvider.fromMap(new Map()))
      const ro = yield* makeReadOnlyClickHouse(config, limits)
      const top = mix[0] ?? { source: "web-frontend", type: "page_view" }
      const timings: Array<PanelTiming> = []
      for (const p of panels(ro, end, { source: top.source, type: top.type })) {
        const t = yield* timePanel(p)
        timings.push(t)
        yield* ctx.log(
          `console query ${t.panel} (${t.range}, step ${t.stepS} s, ${t.points} points): median ${t.medianMs} ms, max ${t.maxMs} ms${t.under100 ? "" : " (over 100 ms)"}`,
        )
      }
      return {
        hours,
        eventsPerSec,
        events: hours * 3_600 * eventsPerSec,
        synthesisS,
        stagesS: Object.fromEntries(Object.entries(stagesMs).map(([k, v]) => [k, seconds(v)])),
        tables,
        panels: timings,
        elapsedS: seconds(Date.now() - started),
      } satisfies ConsoleQueries
    }),
  )
