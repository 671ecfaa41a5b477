import { LATENCY_BUCKETS } from "@rtoa/processor"
import { Either } from "effect"
import { describe, expect, it } from "vitest"
import { parseOptions } from "../src/cli.ts"
import { compareRuns, consoleTargets, judgeRuns, withDashboards } from "../src/console-cost.ts"
import { ingestStatsSql, metricsSql, previousDaySql, trafficMix } from "../src/console-synth.ts"
import { dataRequests, openingRequests, pageRange, pageUrl, slowRequests } from "../src/dashboard-plan.ts"
import type { ConsoleQueries, DashboardLoad, DrainRun } from "../src/results.ts"
import { decodeResult, encodeResult } from "../src/results.ts"
import { makeSseParser } from "../src/sse.ts"
import { renderSummary } from "../src/summary.ts"
import { fixedRun, sampleResult } from "./fixtures.ts"

const load: DashboardLoad = {
  clients: 2,
  seconds: 35,
  routes: [
    {
      route: "metrics",
      requests: 60,
      errors: 0,
      latencyMs: { n: 60, p50: 12, p95: 30, p99: 40, max: 41, mean: 14 },
    },
  ],
  streamEvents: { health: 70, data: 30 },
  streamReconnects: 0,
  firstError: null,
}

const drainRun = (system: string, eventsPerSec: number, dashboards?: DashboardLoad): DrainRun => ({
  system,
  events: 100_000,
  ingested: 100_000,
  eventsPerSec,
  overallPerSec: eventsPerSec,
  cpuCores: 1.5,
  threadsCores: {},
  rssPeakMb: 900,
  rssAnonPeakMb: 400,
  engineMemPeakMb: 300,
  ...(dashboards === undefined ? {} : { dashboards }),
})

const queries = (hours: number, maxMs: number): ConsoleQueries => ({
  hours,
  eventsPerSec: 1_000,
  events: hours * 3_600_000,
  synthesisS: 90,
  stagesS: { "metrics_minutely states": 80 },
  tables: [{ table: "metrics_minutely", parts: 24, mb: 1_400 }],
  panels: [
    {
      panel: "metrics",
      range: "24 h",
      stepS: 120,
      points: 720,
      runsMs: [maxMs, maxMs - 1],
      ...judgeRuns([maxMs, maxMs - 1]),
    },
  ],
  elapsedS: 100,
})

describe("server-sent events", () => {
  it("yields complete events across chunk boundaries, as EventSource dispatches them", () => {
    const parse = makeSseParser()
    expect(parse("retry: 1000\n\nevent: health\nda")).toEqual([])
    expect(
      parse('ta: {"dataVersion":3}\n\n: keep-alive\n\nevent: data\r\ndata: a\r\ndata: b\r\n\r\n'),
    ).toEqual([
      { event: "health", data: '{"dataVersion":3}' },
      { event: "data", data: "a\nb" },
    ])
    expect(parse("data:x\n")).toEqual([])
    expect(parse("\n")).toEqual([{ event: "message", data: "x" }])
  })
})

describe("what the simulated dashboards request", () => {
  const now = 1_733_000_123.4
  it("uses the page's range (the hour ending with the current minute)", () => {
    expect(pageRange(now)).toEqual({ from: 1_732_996_560, to: 1_733_000_160 })
  })

  it("builds the page's URLs: empty and absent parameters left out", () => {
    expect(pageUrl("/api/metrics", { from: 1, to: 2, step: undefined, source: "", compare: undefined })).toBe(
      "/api/metrics?from=1&to=2",
    )
    expect(dataRequests(now).map((r) => r.path)).toEqual([
      "/api/metrics?from=1732996560&to=1733000160",
      "/api/integrity?from=1732996560&to=1733000160",
      "/api/dead-letters?limit=50",
    ])
    expect(slowRequests(now).map((r) => r.path)).toEqual([
      "/api/health/history?from=1732996560&to=1733000160",
      "/api/alerts",
    ])
    expect(openingRequests(now)[0]?.path).toBe("/api/health")
    expect(new Set(openingRequests(now).map((r) => r.route)).size).toBe(7)
  })
})

describe("the console's cost", () => {
  it("pairs each run with dashboards with the same run without and judges the 5%", () => {
    const dash = withDashboards("processor", 2)
    const fixed = [
      fixedRun("processor", 1_000, 200),
      { ...fixedRun(dash, 1_000, 206), dashboards: load },
      fixedRun("processor", 10_000, 300),
      { ...fixedRun(dash, 10_000, 330), dashboards: load },
      fixedRun("kafka-engine-tuned", 1_000, 900),
    ]
    const drain = [drainRun("processor", 40_000), drainRun(dash, 37_000, load)]
    const c = compareRuns(fixed, drain)
    const p99 = c.filter((x) => x.metric.startsWith("p99"))
    expect(p99.map((x) => [x.run, x.ratio, x.ok])).toEqual([
      ["processor @ 1,000/s", 1.03, true],
      ["processor @ 10,000/s", 1.1, false],
    ])
    const rate = c.find((x) => x.metric === "events/s")
    expect(rate).toMatchObject({ without: 40_000, with: 37_000, ratio: 0.925, ok: false })
    expect(c.filter((x) => x.ok === null).length).toBe(5)
    const [ingest] = consoleTargets(c, null)
    expect(ingest?.met).toBe(false)
    expect(consoleTargets([], null).map((t) => t.met)).toEqual([null, null])
  })

  it("does not judge a ratio when a half had fewer than two periods (a run too short for A/B)", () => {
    const dash = withDashboards("processor", 2)
    const fixed = [
      { ...fixedRun("processor", 1_000, 200), abPeriods: 1 },
      { ...fixedRun(dash, 1_000, 206), dashboards: load, abPeriods: 1 },
    ]
    const drain = [
      { ...drainRun("processor", 40_000), abPeriods: 2 },
      { ...drainRun(dash, 60_000, load), abPeriods: 0 },
    ]
    const c = compareRuns(fixed, drain)
    expect(c.map((x) => x.ok)).toEqual([null, null, null, null, null])
    expect(consoleTargets(c, null)[0]).toMatchObject({
      met: null,
      measured: expect.stringContaining("too short"),
    })
    const enough = compareRuns(
      fixed.map((r) => ({ ...r, abPeriods: 2 })),
      drain.map((r) => ({ ...r, abPeriods: 2 })),
    )
    expect(enough.filter((x) => x.ok !== null).map((x) => x.ok)).toEqual([true, true])
  })

  it("takes the median and max of the timed runs; the 100 ms target is judged on 24 h only", () => {
    expect(judgeRuns([30, 10, 20, 120, 40])).toEqual({ medianMs: 30, maxMs: 120, under100: false })
    expect(judgeRuns([10, 20])).toEqual({ medianMs: 15, maxMs: 20, under100: true })
    expect(consoleTargets([], queries(24, 50))[1]?.met).toBe(true)
    expect(consoleTargets([], queries(24, 150))[1]?.met).toBe(false)
    expect(consoleTargets([], queries(2, 50))[1]?.met).toBeNull()
  })
})

describe("synthetic console data", () => {
  it("has the producer's dimension mix", () => {
    const mix = trafficMix()
    expect(mix.length).toBe(31)
    expect(mix.reduce((s, e) => s + e.p, 0)).toBeCloseTo(1, 9)
    const share = (f: (e: (typeof mix)[number]) => boolean) => mix.filter(f).reduce((s, e) => s + e.p, 0)
    expect(share((e) => e.channel === "Web")).toBeCloseTo(0.5, 9)
    expect(share((e) => e.source === "ios-app")).toBeCloseTo(0.35 * 0.55, 9)
    expect(share((e) => e.channel === "Partner" && e.type === "purchase")).toBeCloseTo(0.05 * 0.5, 9)
    expect(mix[0]).toMatchObject({ channel: "Web", source: "web-frontend", type: "page_view" })
  })

  it("writes an hour of states and a row per 5 s of ingest_stats in the processor's layout", () => {
    const spec = { from: 1_733_000_400, eventsPerSec: 1_000, users: 5_000, mix: trafficMix() }
    const sql = metricsSql(spec)
    expect(sql).toContain("FROM numbers(3600000)")
    expect(sql).toContain("uniqExactState(event_id)")
    const stats = ingestStatsSql(spec, LATENCY_BUCKETS)
    const buckets = /\[([\d, ]+)\], number % 500/.exec(stats)?.[1]?.split(", ").map(Number) ?? []
    expect(buckets.length).toBe(LATENCY_BUCKETS.length + 1)
    expect(buckets.reduce((a, b) => a + b, 0)).toBe(5_000)
    expect(previousDaySql(1, 2).join("\n")).toContain("INTERVAL 1 DAY")
    expect(() => metricsSql({ ...spec, mix: [{ channel: "x'", source: "s", type: "t", p: 1 }] })).toThrow(
      RangeError,
    )
  })
})

describe("results with the console", () => {
  it("round-trip, render, and older files without the new fields still decode", () => {
    const dash = withDashboards("processor", 2)
    const base = sampleResult()
    const result = {
      ...base,
      fixedRate: [...base.fixedRate, { ...fixedRun(dash, 1_000, 340), dashboards: load }],
      drain: [...base.drain, drainRun(dash, 19_000, load)],
      console: {
        dashboards: 2,
        comparisons: compareRuns(base.fixedRate, base.drain),
        queries: queries(2, 120),
      },
    }
    const back = decodeResult(JSON.parse(JSON.stringify(encodeResult(result))))
    expect(Either.isRight(back) && back.right).toEqual(result)
    expect(Either.isRight(decodeResult(JSON.parse(JSON.stringify(encodeResult(base)))))).toBe(true)
    const md = renderSummary(result)
    expect(md).toContain("## Operators' console (2 simulated dashboards)")
    expect(md).toContain("| processor + 2 dashboards @ 1,000/s (35 s) | metrics | 60 | 0 | 12 | 30 | 41 |")
    expect(md).toContain("(--quick: not the target's 24 h)")
    expect(renderSummary(base)).not.toContain("Operators' console")
  })
})

describe("console options", () => {
  it("runs the console steps by default, 2 h with --quick, no panel queries with --drain-only, nothing with --skip-console", () => {
    const opts = (argv: ReadonlyArray<string>) => {
      const p = parseOptions(argv)
      if (p._tag !== "Run") throw new Error(p._tag)
      return [p.options.dashboards, p.options.consoleHours]
    }
    expect(opts([])).toEqual([2, 24])
    expect(opts(["--quick"])).toEqual([2, 2])
    expect(opts(["--console-hours", "6"])).toEqual([2, 6])
    expect(opts(["--skip-console"])).toEqual([0, 0])
    expect(opts(["--drain-only"])).toEqual([2, 0])
    expect(opts(["--drain-only", "--skip-console"])).toEqual([0, 0])
    expect(parseOptions(["--console-hours", "0"])._tag).toBe("Invalid")
    expect(parseOptions(["--console-hours", "200"])._tag).toBe("Invalid")
  })
})
