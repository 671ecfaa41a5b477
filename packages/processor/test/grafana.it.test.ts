import * as fs from "node:fs"
import * as path from "node:path"
import { describe, expect, it, layer } from "@effect/vitest"
import {
  applyMigrations,
  ClickHouse,
  type ClickHouseClient,
  type ClickHouseConfig,
  makeClickHouse,
  refreshMinuteCountsBetween,
} from "@rtoa/core"
import { repoRoot, tempDir } from "@rtoa/core/test/support/it.ts"
import { Effect, Layer, Schema } from "effect"
import { parse as parseYaml } from "yaml"
import { healthHistoryQuery, integrityQuery, metricsQuery, normalizeRange } from "../src/console/queries.ts"
import { LATENCY_BUCKETS } from "../src/metrics.ts"
import { quantileMs } from "../src/sampler.ts"
import { expandTarget, type QueryContext, type VariableState } from "./support/grafana.ts"

/**
 * The docker-mode Grafana cannot run here (no Docker engine). What can be checked without it:
 * the compose service mounts provisioning files that exist and the datasource reaches the compose
 * ClickHouse; and every SQL statement of the provisioned dashboard, expanded as the pinned plugin
 * and Grafana would (support/grafana.ts says how and from where), runs on the real schema (db/
 * migrations on the embedded engine, with data in every table) and returns the columns its panel
 * expects, with the same numbers the built-in console shows.
 */

const PLUGIN_ID = "grafana-clickhouse-datasource"
const infra = path.join(repoRoot, "infra")
const grafanaDir = path.join(infra, "grafana")
// merge: compose resolves `<<: *anchor` merge keys (the cluster profile's nodes use them).
const readYaml = (file: string): unknown => parseYaml(fs.readFileSync(file, "utf8"), { merge: true })

// ---- The files, decoded into the parts the checks read ----------------------------------------

const Datasource = Schema.Struct({ type: Schema.String, uid: Schema.String })
const Target = Schema.Struct({
  datasource: Datasource,
  editorType: Schema.Literal("sql"),
  format: Schema.Literal(0, 1),
  queryType: Schema.Literal("timeseries", "table"),
  pluginVersion: Schema.String,
  rawSql: Schema.String,
  refId: Schema.String,
})
const Override = Schema.Struct({
  matcher: Schema.Struct({ id: Schema.String, options: Schema.String }),
  properties: Schema.Array(Schema.Struct({ id: Schema.String, value: Schema.Unknown })),
})
const Panel = Schema.Struct({
  id: Schema.Number,
  type: Schema.String,
  title: Schema.String,
  datasource: Schema.optional(Datasource),
  targets: Schema.optional(Schema.Array(Target)),
  fieldConfig: Schema.optional(Schema.Struct({ overrides: Schema.Array(Override) })),
})
const QueryVariable = Schema.Struct({
  name: Schema.String,
  type: Schema.Literal("query"),
  datasource: Datasource,
  query: Schema.String,
  multi: Schema.Boolean,
  includeAll: Schema.Boolean,
  current: Schema.Struct({ value: Schema.Array(Schema.String) }),
})
const Dashboard = Schema.Struct({
  uid: Schema.String,
  panels: Schema.Array(Panel),
  templating: Schema.Struct({ list: Schema.Array(QueryVariable) }),
})
const DatasourceFile = Schema.Struct({
  apiVersion: Schema.Literal(1),
  datasources: Schema.Array(
    Schema.Struct({
      type: Schema.String,
      uid: Schema.String,
      jsonData: Schema.Struct({
        protocol: Schema.String,
        host: Schema.String,
        port: Schema.Number,
        secure: Schema.Boolean,
        username: Schema.String,
        defaultDatabase: Schema.String,
      }),
      secureJsonData: Schema.Struct({ password: Schema.String }),
    }),
  ),
})
const DashboardProviders = Schema.Struct({
  apiVersion: Schema.Literal(1),
  providers: Schema.Array(
    Schema.Struct({ type: Schema.Literal("file"), options: Schema.Struct({ path: Schema.String }) }),
  ),
})
const Service = Schema.Struct({
  image: Schema.String,
  environment: Schema.optionalWith(Schema.Record({ key: Schema.String, value: Schema.String }), {
    default: () => ({}),
  }),
  ports: Schema.optionalWith(Schema.Array(Schema.String), { default: () => [] }),
  volumes: Schema.optionalWith(Schema.Array(Schema.String), { default: () => [] }),
})
const Compose = Schema.Struct({ services: Schema.Record({ key: Schema.String, value: Service }) })

const dashboardFiles = fs.readdirSync(path.join(grafanaDir, "dashboards")).filter((f) => f.endsWith(".json"))
const dashboard = Schema.decodeUnknownSync(Dashboard)(
  JSON.parse(fs.readFileSync(path.join(grafanaDir, "dashboards", "realtime-ops.json"), "utf8")),
)
const datasourceFile = Schema.decodeUnknownSync(DatasourceFile)(
  readYaml(path.join(grafanaDir, "provisioning/datasources/clickhouse.yaml")),
)
const compose = Schema.decodeUnknownSync(Compose)(readYaml(path.join(infra, "docker-compose.yml")))

const service = (name: string) => {
  const s = compose.services[name]
  if (s === undefined) throw new Error(`infra/docker-compose.yml has no service ${name}`)
  return s
}
const grafana = service("grafana")
const pluginVersion = /^grafana-clickhouse-datasource (\d+\.\d+\.\d+)$/.exec(
  grafana.environment.GF_INSTALL_PLUGINS ?? "",
)?.[1]

// ---- What each panel must return -------------------------------------------------------------

interface Expected {
  /** The result's columns, in order: `time` first, then the values (or a label, then values). */
  readonly columns: ReadonlyArray<string>
  /** The string column a long-format series is split by (one series per value). */
  readonly label?: string
}

const expectations: Readonly<Record<string, Readonly<Record<string, Expected>>>> = {
  "Events per minute by channel (exact)": {
    A: { columns: ["time", "channel", "events_per_minute"], label: "channel" },
  },
  "Unique users by channel": {
    A: { columns: ["time", "channel", "users"], label: "channel" },
    B: { columns: ["time", "users_all_channels"] },
  },
  "Received vs stored vs duplicates (per minute)": {
    A: { columns: ["time", "received", "stored", "duplicates"] },
  },
  "Late events (per minute)": { A: { columns: ["time", "late_events_per_minute"] } },
  "Max lateness": { A: { columns: ["time", "max_lateness"] } },
  "Throughput (events/s)": { A: { columns: ["time", "consumed_per_second", "written_per_second"] } },
  "Dead letters per second by reason": {
    A: { columns: ["time", "reason", "per_second"], label: "reason" },
  },
  "End-to-end latency p50 / p95 / p99": { A: { columns: ["time", "p50", "p95", "p99"] } },
  "Batch size (records)": { A: { columns: ["time", "batch_rows_avg", "batch_rows_max"] } },
  "Sink retries (per interval)": { A: { columns: ["time", "sink_retries"] } },
  "Max consumer lag (records)": { A: { columns: ["time", "lag_records_max"] } },
}

const queryPanels = dashboard.panels.filter((p) => p.type !== "row")
const targetsOf = (title: string) => queryPanels.find((p) => p.title === title)?.targets ?? []

// ---- The static checks ---------------------------------------------------------------------

describe("docker-mode Grafana: compose and provisioning files", () => {
  it("compose pins the image and plugin, keeps anonymous access off and the port on 127.0.0.1", () => {
    expect(grafana.image).toMatch(/^grafana\/grafana-oss:\d+\.\d+\.\d+$/)
    expect(pluginVersion, "GF_INSTALL_PLUGINS pins grafana-clickhouse-datasource <x.y.z>").toBeDefined()
    expect(grafana.environment.GF_AUTH_ANONYMOUS_ENABLED).toBe("false")
    expect(grafana.environment.GF_SECURITY_ADMIN_PASSWORD).toMatch(/^\$\{GRAFANA_ADMIN_PASSWORD:-[^}]+\}$/)
    expect(grafana.ports.length).toBeGreaterThan(0)
    for (const port of grafana.ports) expect(port).toMatch(/^127\.0\.0\.1:\d+:3000$/)
  })

  it("every bind mount's source exists, and every provisioning file is mounted", () => {
    const binds = grafana.volumes
      .filter((v) => v.startsWith("./"))
      .map((v) => {
        const [source = "", target = ""] = v.split(":")
        return { source: path.resolve(infra, source), target }
      })
    for (const b of binds) expect(fs.existsSync(b.source), `${b.source} (mounted at ${b.target})`).toBe(true)
    const targets = new Map(binds.map((b) => [b.source, b.target]))
    expect(targets.get(path.join(grafanaDir, "provisioning/datasources"))).toBe(
      "/etc/grafana/provisioning/datasources",
    )
    expect(targets.get(path.join(grafanaDir, "provisioning/dashboards"))).toBe(
      "/etc/grafana/provisioning/dashboards",
    )
    // Every file under infra/grafana/ lies in a mounted directory.
    const files = fs
      .readdirSync(grafanaDir, { recursive: true, withFileTypes: true })
      .filter((e) => e.isFile())
      .map((e) => path.join(e.parentPath, e.name))
    expect(files.length).toBeGreaterThanOrEqual(3)
    for (const f of files)
      expect(
        binds.some((b) => f.startsWith(`${b.source}${path.sep}`)),
        `${path.relative(repoRoot, f)} is not mounted`,
      ).toBe(true)
    // The dashboard provider reads the directory the dashboards are mounted at.
    const providers = Schema.decodeUnknownSync(DashboardProviders)(
      readYaml(path.join(grafanaDir, "provisioning/dashboards/rtoa.yaml")),
    )
    const dashboardsTarget = targets.get(path.join(grafanaDir, "dashboards"))
    expect(providers.providers.map((p) => p.options.path)).toEqual([dashboardsTarget])
    expect(dashboardFiles).toEqual(["realtime-ops.json"])
  })

  it("the datasource points at the compose ClickHouse over HTTP with the .env credentials", () => {
    const [ds, ...others] = datasourceFile.datasources
    expect(others).toEqual([])
    expect(ds?.type).toBe(PLUGIN_ID)
    const j = ds?.jsonData
    expect(j?.protocol).toBe("http")
    expect(`${j?.secure ? "https" : "http"}://${j?.host}:${j?.port}`).toBe("http://clickhouse:8123")
    // ...which is the compose service `clickhouse` serving HTTP on 8123.
    expect(service("clickhouse").ports.some((p) => p.endsWith(":8123"))).toBe(true)
    expect(j?.username).toBe(`\${CLICKHOUSE_USER}`)
    expect(j?.defaultDatabase).toBe(`\${CLICKHOUSE_DATABASE}`)
    expect(ds?.secureJsonData.password).toBe(`\${CLICKHOUSE_PASSWORD}`)
    // Grafana gets those from the same .env variables as the ClickHouse service.
    const ch = service("clickhouse").environment
    expect(grafana.environment.CLICKHOUSE_USER).toBe(ch.CLICKHOUSE_USER)
    expect(grafana.environment.CLICKHOUSE_PASSWORD).toBe(ch.CLICKHOUSE_PASSWORD)
    expect(grafana.environment.CLICKHOUSE_DATABASE).toBe(ch.CLICKHOUSE_DB)
  })

  it("the dashboard's panels, targets and variables use that datasource and the pinned plugin", () => {
    const uid = datasourceFile.datasources[0]?.uid
    expect(queryPanels.map((p) => p.title).sort()).toEqual(Object.keys(expectations).sort())
    for (const panel of queryPanels) {
      expect(panel.datasource, panel.title).toEqual({ type: PLUGIN_ID, uid })
      expect(panel.targets?.map((t) => t.refId).sort(), panel.title).toEqual(
        Object.keys(expectations[panel.title] ?? {}).sort(),
      )
      for (const t of panel.targets ?? []) {
        expect(t.datasource, `${panel.title} ${t.refId}`).toEqual({ type: PLUGIN_ID, uid })
        expect(t.pluginVersion, `${panel.title} ${t.refId}`).toBe(pluginVersion)
        expect([t.queryType, t.format], `${panel.title} ${t.refId}`).toEqual(["timeseries", 0])
      }
      // Series named by a label: the label is a column of that target.
      for (const o of panel.fieldConfig?.overrides ?? []) {
        const name = o.properties.find((p) => p.id === "displayName")?.value
        const label = typeof name === "string" ? /^\$\{__field\.labels\.(\w+)\}$/.exec(name)?.[1] : undefined
        if (label === undefined) continue
        expect(o.matcher.id).toBe("byFrameRefID")
        expect(expectations[panel.title]?.[o.matcher.options]?.label, `${panel.title}: ${name}`).toBe(label)
      }
    }
    for (const v of dashboard.templating.list) expect(v.datasource).toEqual({ type: PLUGIN_ID, uid })
    expect(dashboard.templating.list.map((v) => v.name)).toEqual(["source", "type"])
  })

  it("the latency panel's bucket bounds are the processor's LATENCY_BUCKETS", () => {
    const [latency] = targetsOf("End-to-end latency p50 / p95 / p99")
    const bounds = /WITH \[([^\]]*)\] AS bounds/.exec(latency?.rawSql ?? "")?.[1]
    expect(bounds?.split(",").map(Number)).toEqual([...LATENCY_BUCKETS])
  })
})

// ---- On the engine ---------------------------------------------------------------------------

const config: ClickHouseConfig = {
  _tag: "Embedded",
  dataPath: path.join(tempDir("grafana"), "chdb"),
  database: "default",
}

const T0 = Date.UTC(2026, 10, 20, 8, 0, 0)
const MINUTES = 12
const range = { fromMs: T0 - 2 * 60_000, toMs: T0 + 20 * 60_000 }
const CHANNELS = ["web", "app", "ios"] as const
const SOURCES = ["s1", "s2"] as const
const TYPES = ["click", "view"] as const
const PROCESSORS = ["p1", "p2"] as const

const dateTime = (ms: number) => new Date(ms).toISOString().slice(0, 19).replace("T", " ")

/** metrics_minutely_input groups as the sink writes them; some replayed in a second batch. */
const inputGroups = () =>
  Array.from({ length: MINUTES }, (_, m) =>
    CHANNELS.flatMap((c, ci) =>
      SOURCES.flatMap((s, si) =>
        TYPES.flatMap((t, ti) => {
          if ((m + ci + si + ti) % 5 === 4) return []
          const n = 1 + ((m * 7 + ci * 3 + si * 5 + ti) % 6)
          const eventIds = Array.from({ length: n }, (_, k) => `e-${m}-${c}-${s}-${t}-${k}`)
          return [
            {
              time_window: dateTime(T0 + m * 60_000),
              dimension_channel: c,
              event_source: s,
              event_type: t,
              user_ids: eventIds.map((_, k) => `u${(m + k + ci) % 10}`),
              event_ids: eventIds,
              received: n + ((m + ci) % 3),
              late_events: m % 4 === 0 ? 1 : 0,
              max_lateness_ms: 500 * m + 100 * ci + 10 * si + ti,
            },
          ]
        }),
      ),
    ),
  ).flat()

/** ingest_stats every 5 s from two processors, with dead letters, retries and slow events. */
const statsRows = () =>
  Array.from({ length: MINUTES }, (_, m) =>
    PROCESSORS.flatMap((processor, pi) =>
      Array.from({ length: 12 }, (_, k) => {
        const consumed = 100 + ((m * 13 + k * 7 + pi * 3) % 50)
        const latency = Array.from({ length: LATENCY_BUCKETS.length + 1 }, () => 0)
        latency[(m + k + pi) % 8] = consumed - 10
        latency[10] = 7
        latency[LATENCY_BUCKETS.length] = m === 7 ? 3 : 0
        const batches = 1 + (k % 3)
        return {
          ts: Math.floor(T0 / 1_000) + m * 60 + k * 5,
          processor,
          seconds: 5,
          consumed,
          written: consumed - (k % 4 === 0 ? 1 : 0),
          dead_letters:
            k % 3 === 0 ? { invalid_json: 1 + (m % 2) } : k % 5 === 0 ? { schema_violation: 2 + pi } : {},
          batches,
          max_batch_rows: Math.ceil(consumed / batches) + pi,
          sink_retries: m === 4 && k === 2 ? 2 : 0,
          latency_buckets: latency,
          max_lag_records: 1_000 - m * 50 + k + pi,
        }
      }),
    ),
  ).flat()

const seed = Effect.gen(function* () {
  const ch = yield* ClickHouse
  yield* applyMigrations(ch, path.join(repoRoot, "db"))
  const groups = inputGroups()
  yield* ch.insert("metrics_minutely_input", groups)
  // A replay: the same events again (received counts them, stored does not).
  yield* ch.insert(
    "metrics_minutely_input",
    groups
      .filter((g) => g.time_window.endsWith(":03:00") || g.time_window.endsWith(":06:00"))
      .map((g) => ({ ...g, received: g.event_ids.length, late_events: 0 })),
  )
  yield* refreshMinuteCountsBetween(ch, range.fromMs, range.toMs)
  yield* ch.insert("ingest_stats", statsRows())
})

const Engine = Layer.effectDiscard(seed).pipe(
  Layer.provideMerge(Layer.scoped(ClickHouse, makeClickHouse(config))),
)

const Result = Schema.Struct({
  meta: Schema.Array(Schema.Struct({ name: Schema.String, type: Schema.String })),
  data: Schema.Array(Schema.Array(Schema.Unknown)),
})
type Result = typeof Result.Type

const run = (ch: ClickHouseClient, sql: string) =>
  Effect.map(ch.queryText(sql, "JSONCompact"), (text) => Schema.decodeUnknownSync(Result)(JSON.parse(text)))

const epochSeconds = (v: unknown) => Date.parse(`${String(v).replace(" ", "T")}Z`) / 1_000

const ALL = ["$__all"]
interface Scenario {
  readonly name: string
  readonly intervalMs: number
  readonly source: ReadonlyArray<string>
  readonly type: ReadonlyArray<string>
}
const scenarios: ReadonlyArray<Scenario> = [
  { name: "All sources and types, 1-minute interval", intervalMs: 60_000, source: ALL, type: ALL },
  { name: "All sources and types, 5-minute interval", intervalMs: 300_000, source: ALL, type: ALL },
  { name: "source s1, types click and view", intervalMs: 60_000, source: ["s1"], type: ["click", "view"] },
  { name: "source s2, type view, 2-minute interval", intervalMs: 120_000, source: ["s2"], type: ["view"] },
]

/** The variables' own queries, expanded and run: their options are what All stands for. */
const variablesFor = (ch: ClickHouseClient, s: Scenario) =>
  Effect.forEach(dashboard.templating.list, (v) =>
    Effect.gen(function* () {
      const base: QueryContext = { ...range, intervalMs: s.intervalMs, variables: [] }
      const result = yield* run(ch, expandTarget(v.query, base))
      expect(result.meta.length, `variable ${v.name}: one column`).toBe(1)
      expect(result.meta[0]?.type).toMatch(/String/)
      const options = result.data.map((row) => String(row[0]))
      expect(options.length, `variable ${v.name} has options`).toBeGreaterThan(0)
      const current = v.name === "source" ? s.source : s.type
      for (const c of current) if (c !== "$__all") expect(options).toContain(c)
      return {
        name: v.name,
        multi: v.multi,
        includeAll: v.includeAll,
        current,
        options,
      } satisfies VariableState
    }),
  )

const numeric = /^(Nullable\()?(U?Int\d+|Float\d+|Decimal)/
const label = /^(LowCardinality\()?(Nullable\()?String/

const runTarget = (ch: ClickHouseClient, ctx: QueryContext, panel: string, refId: string, rawSql: string) =>
  Effect.gen(function* () {
    const where = `${panel} ${refId}`
    const sql = expandTarget(rawSql, ctx)
    expect(sql, `${where}: nothing left unexpanded`).not.toMatch(/\$\w|\$\{|\[\[/)
    const result = yield* run(ch, sql).pipe(
      Effect.mapError((e) => new Error(`${where}: ${e.message}\n${sql}`)),
    )
    const exp = expectations[panel]?.[refId]
    expect(
      result.meta.map((m) => m.name),
      where,
    ).toEqual(exp?.columns)
    for (const m of result.meta) {
      if (m.name === "time") expect(m.type, `${where}: time`).toMatch(/^DateTime(\(|$)/)
      else if (m.name === exp?.label) expect(m.type, `${where}: ${m.name}`).toMatch(label)
      else expect(m.type, `${where}: ${m.name}`).toMatch(numeric)
    }
    expect(result.data.length, `${where}: rows`).toBeGreaterThan(0)
    const times = result.data.map((row) => epochSeconds(row[0]))
    // Long-format series (time, label, values) are only converted to series when sorted by time.
    expect(
      times.every((t, i) => i === 0 || t >= (times[i - 1] ?? t)),
      `${where}: sorted by time`,
    ).toBe(true)
    for (const t of times) {
      expect(t * 1_000, where).toBeGreaterThanOrEqual(range.fromMs - ctx.intervalMs)
      expect(t * 1_000, where).toBeLessThanOrEqual(range.toMs)
    }
    return result
  })

/** Rows by epoch seconds (and label), one value column. */
const byTime = (result: Result, column: string, labelColumn?: string) => {
  const names = result.meta.map((m) => m.name)
  const vi = names.indexOf(column)
  const li = labelColumn === undefined ? -1 : names.indexOf(labelColumn)
  return new Map(
    result.data.map((row) => [
      `${epochSeconds(row[0])}${li < 0 ? "" : `/${String(row[li])}`}`,
      row[vi] === null ? null : Number(row[vi]),
    ]),
  )
}

/** The console's series (aligned on its points) against the panel's rows: equal, point by point. */
const sameSeries = (
  what: string,
  time: ReadonlyArray<number>,
  consoleSeries: ReadonlyArray<number | null> | undefined,
  panel: ReadonlyMap<string, number | null>,
  suffix = "",
) => {
  expect(consoleSeries, what).toBeDefined()
  expect(
    consoleSeries?.some((v) => v !== null),
    `${what}: the console has data`,
  ).toBe(true)
  time.forEach((t, i) => {
    const c = consoleSeries?.[i] ?? null
    const g = panel.get(`${t}${suffix}`) ?? null
    if (c === null) expect(g, `${what} at ${t}`).toBeNull()
    else expect(g, `${what} at ${t}`).toBeCloseTo(c, 6)
  })
}

layer(Engine, { timeout: "120 seconds" })(
  "docker-mode Grafana: the dashboard's SQL on the real schema",
  (it) => {
    for (const scenario of scenarios)
      it.effect(`every panel target runs and returns its panel's columns: ${scenario.name}`, () =>
        Effect.gen(function* () {
          const ch = yield* ClickHouse
          const variables = yield* variablesFor(ch, scenario)
          const ctx: QueryContext = { ...range, intervalMs: scenario.intervalMs, variables }
          for (const panel of queryPanels)
            for (const t of panel.targets ?? []) yield* runTarget(ch, ctx, panel.title, t.refId, t.rawSql)
        }),
      )

    it.effect(
      "the business panels show the console's numbers (1-minute interval, with and without filters)",
      () =>
        Effect.gen(function* () {
          const ch = yield* ClickHouse
          for (const filter of [{}, { source: "s2", type: "view" }] as const) {
            const s: Scenario = {
              name: "console",
              intervalMs: 60_000,
              source: "source" in filter ? [filter.source] : ALL,
              type: "type" in filter ? [filter.type] : ALL,
            }
            const ctx: QueryContext = { ...range, intervalMs: 60_000, variables: yield* variablesFor(ch, s) }
            const r = normalizeRange({
              from: range.fromMs / 1_000,
              to: range.toMs / 1_000,
              step: 60,
              ...filter,
            })
            const console = yield* metricsQuery(ch, r, "none")
            const target = (title: string, refId: string) =>
              runTarget(ch, ctx, title, refId, targetsOf(title).find((t) => t.refId === refId)?.rawSql ?? "")
            const events = yield* target("Events per minute by channel (exact)", "A")
            const users = yield* target("Unique users by channel", "A")
            const usersTotal = yield* target("Unique users by channel", "B")
            expect(console.channels).toEqual([...CHANNELS].sort())
            for (const c of console.channels) {
              sameSeries(
                `events ${c}`,
                console.time,
                console.events[c],
                byTime(events, "events_per_minute", "channel"),
                `/${c}`,
              )
              sameSeries(
                `users ${c}`,
                console.time,
                console.users[c],
                byTime(users, "users", "channel"),
                `/${c}`,
              )
            }
            sameSeries(
              "users (all channels)",
              console.time,
              console.usersTotal,
              byTime(usersTotal, "users_all_channels"),
            )
          }
        }),
    )

    it.effect("the integrity and health panels show the console's numbers (1-minute interval)", () =>
      Effect.gen(function* () {
        const ch = yield* ClickHouse
        const s: Scenario = { name: "console", intervalMs: 60_000, source: ALL, type: ALL }
        const ctx: QueryContext = { ...range, intervalMs: 60_000, variables: yield* variablesFor(ch, s) }
        const r = normalizeRange({ from: range.fromMs / 1_000, to: range.toMs / 1_000, step: 60 })
        const target = (title: string) => runTarget(ch, ctx, title, "A", targetsOf(title)[0]?.rawSql ?? "")

        const integrity = yield* integrityQuery(ch, r)
        const counts = yield* target("Received vs stored vs duplicates (per minute)")
        sameSeries("received", integrity.time, integrity.received, byTime(counts, "received"))
        sameSeries("stored", integrity.time, integrity.stored, byTime(counts, "stored"))
        sameSeries("duplicates", integrity.time, integrity.duplicates, byTime(counts, "duplicates"))
        expect(
          integrity.duplicates.some((d) => d !== null && d > 0),
          "the seed has duplicates",
        ).toBe(true)
        const late = yield* target("Late events (per minute)")
        sameSeries(
          "late events",
          integrity.time,
          integrity.lateEvents,
          byTime(late, "late_events_per_minute"),
        )
        const lateness = yield* target("Max lateness")
        sameSeries("max lateness", integrity.time, integrity.maxLatenessMs, byTime(lateness, "max_lateness"))

        const health = yield* healthHistoryQuery(ch, r)
        const throughput = yield* target("Throughput (events/s)")
        sameSeries(
          "consumed/s",
          health.time,
          health.consumedPerSecond,
          byTime(throughput, "consumed_per_second"),
        )
        sameSeries(
          "written/s",
          health.time,
          health.writtenPerSecond,
          byTime(throughput, "written_per_second"),
        )
        const dlq = yield* target("Dead letters per second by reason")
        const dlqRows = byTime(dlq, "per_second", "reason")
        expect(Object.keys(health.deadLettersPerSecond).sort()).toEqual(["invalid_json", "schema_violation"])
        // The console fills 0 for a reason absent in a bucket where another reason has rows.
        for (const [reason, series] of Object.entries(health.deadLettersPerSecond))
          sameSeries(
            `dead letters ${reason}`,
            health.time,
            series.map((v) => (v === 0 ? null : v)),
            dlqRows,
            `/${reason}`,
          )
        const latency = yield* target("End-to-end latency p50 / p95 / p99")
        sameSeries("p50", health.time, health.latencyP50Ms, byTime(latency, "p50"))
        sameSeries("p95", health.time, health.latencyP95Ms, byTime(latency, "p95"))
        sameSeries("p99", health.time, health.latencyP99Ms, byTime(latency, "p99"))
        // The overflow bucket (beyond 60 s) is reached in minute 7: p99 there is 60 s, as quantileMs says.
        const minute7 = Math.floor(T0 / 1_000) + 7 * 60
        expect(byTime(latency, "p99").get(`${minute7}`)).toBe(60_000)
        expect(quantileMs([...Array.from({ length: LATENCY_BUCKETS.length }, () => 0), 1], 0.99)).toBe(60_000)
        const batch = yield* target("Batch size (records)")
        sameSeries("batch avg", health.time, health.batchRowsAvg, byTime(batch, "batch_rows_avg"))
        sameSeries("batch max", health.time, health.batchRowsMax, byTime(batch, "batch_rows_max"))
        const retries = yield* target("Sink retries (per interval)")
        sameSeries("sink retries", health.time, health.sinkRetries, byTime(retries, "sink_retries"))
        const lag = yield* target("Max consumer lag (records)")
        sameSeries("max lag", health.time, health.lagRecordsMax, byTime(lag, "lag_records_max"))
      }),
    )
  },
)
