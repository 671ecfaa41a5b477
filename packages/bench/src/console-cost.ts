import type {
  ConsoleComparison,
  ConsoleQueries,
  DashboardLoad,
  DrainRun,
  FixedRateRun,
  PanelTiming,
  Target,
} from "./results.ts"

/**
 * The console's cost, judged from the measurements (pure): runs with simulated dashboards next to
 * the same runs without, panel query timings, and the targets for both.
 */

/** The name of a system's run with `clients` dashboards open. */
export const withDashboards = (system: string, clients: number) => `${system} + ${clients} dashboards`

/**
 * A system's run measured A/B (interleave.ts): its closed periods carry this name, its open ones
 * withDashboards(abName(system), clients).
 */
export const abName = (system: string) => `${system} (A/B)`

/** How many requests, errors and how slow, in one line (the run log). */
export const describeLoad = (load: DashboardLoad) => {
  const requests = load.routes.reduce((n, r) => n + r.requests, 0)
  const errors = load.routes.reduce((n, r) => n + r.errors, 0)
  const worst = Math.max(0, ...load.routes.map((r) => r.latencyMs?.max ?? 0))
  const metrics = load.routes.find((r) => r.route === "metrics")?.latencyMs
  return `${load.clients} dashboards: ${requests} requests (${errors} errors), metrics p50 ${Math.round(metrics?.p50 ?? 0)} ms, slowest ${Math.round(worst)} ms; ${load.streamEvents.data ?? 0} data events`
}

const ratio = (a: number, b: number) => (b === 0 ? Number.NaN : a / b)

const compare = (
  run: string,
  metric: string,
  without: number,
  withDash: number,
  judge: ((r: number) => boolean) | undefined,
): ConsoleComparison => {
  const r = ratio(withDash, without)
  return {
    run,
    metric,
    without,
    with: withDash,
    ratio: Number.isFinite(r) ? Math.round(r * 1_000) / 1_000 : 0,
    ok: judge === undefined || !Number.isFinite(r) ? null : judge(r),
  }
}

// The issue: with two dashboards open, p99 and throughput within 5% of without.
const p99Within = (r: number) => r <= 1.05
const rateWithin = (r: number) => r >= 0.95

/**
 * A ratio is judged only when each half had at least two periods (one closed, open, open, closed
 * cycle): a run too short for that (--quick's few seconds, a drain shorter than its periods) has
 * a half measured over a fragment, and its ratio says nothing. Older result files have no count.
 */
const MIN_AB_PERIODS = 2
const longEnough = (
  a: { readonly abPeriods?: number | undefined },
  b: { readonly abPeriods?: number | undefined },
) => (a.abPeriods ?? MIN_AB_PERIODS) >= MIN_AB_PERIODS && (b.abPeriods ?? MIN_AB_PERIODS) >= MIN_AB_PERIODS

/** Each run with dashboards against the run of the same system (and rate) without. */
export const compareRuns = (
  fixed: ReadonlyArray<FixedRateRun>,
  drain: ReadonlyArray<DrainRun>,
): ReadonlyArray<ConsoleComparison> => {
  const out: Array<ConsoleComparison> = []
  for (const w of fixed) {
    const clients = w.dashboards?.clients
    const base =
      clients === undefined
        ? undefined
        : fixed.find(
            (b) =>
              b.dashboards === undefined &&
              b.rate === w.rate &&
              withDashboards(b.system, clients) === w.system,
          )
    if (base?.latencyMs == null || w.latencyMs === null) continue
    const run = `${base.system} @ ${base.rate.toLocaleString("en-US")}/s`
    const judged = longEnough(base, w)
    out.push(
      compare(run, "p99 latency (ms)", base.latencyMs.p99, w.latencyMs.p99, judged ? p99Within : undefined),
      compare(run, "p50 latency (ms)", base.latencyMs.p50, w.latencyMs.p50, undefined),
      compare(run, "CPU (cores)", base.cpuCores, w.cpuCores, undefined),
    )
  }
  for (const w of drain) {
    const clients = w.dashboards?.clients
    const base =
      clients === undefined
        ? undefined
        : drain.find((b) => b.dashboards === undefined && withDashboards(b.system, clients) === w.system)
    if (base === undefined) continue
    const run = `${base.system}: backlog drain`
    out.push(
      compare(
        run,
        "events/s",
        base.eventsPerSec,
        w.eventsPerSec,
        longEnough(base, w) ? rateWithin : undefined,
      ),
      compare(run, "CPU (cores)", base.cpuCores, w.cpuCores, undefined),
    )
  }
  return out
}

/** Median and max of a panel's timed runs, and whether every one was under 100 ms. */
export const judgeRuns = (runsMs: ReadonlyArray<number>) => {
  const sorted = [...runsMs].sort((a, b) => a - b)
  const mid = Math.floor(sorted.length / 2)
  const median =
    sorted.length === 0
      ? 0
      : sorted.length % 2 === 1
        ? (sorted[mid] ?? 0)
        : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2
  const max = sorted[sorted.length - 1] ?? 0
  return {
    medianMs: Math.round(median * 10) / 10,
    maxMs: Math.round(max * 10) / 10,
    under100: sorted.length > 0 && max < 100,
  }
}

const slowest = (panels: ReadonlyArray<PanelTiming>) =>
  panels.reduce<PanelTiming | undefined>((a, p) => (a === undefined || p.maxMs > a.maxMs ? p : a), undefined)

/** The two console targets. */
export const consoleTargets = (
  comparisons: ReadonlyArray<ConsoleComparison>,
  queries: ConsoleQueries | null,
): ReadonlyArray<Target> => {
  const judged = comparisons.filter((c) => c.ok !== null)
  const day = queries?.panels.filter((p) => p.range === "24 h") ?? []
  const worst = slowest(day)
  return [
    {
      name: "ingestion with dashboards open",
      target: "p99 and drain rate within 5% of without",
      measured:
        comparisons.length === 0
          ? "not run"
          : judged.length === 0
            ? "not judged: the runs were too short for two A/B periods a half"
            : judged.map((c) => `${c.run} ${c.metric} x${c.ratio.toFixed(2)}`).join("; "),
      met: judged.length === 0 ? null : judged.every((c) => c.ok === true),
    },
    {
      name: "console panel queries, 24 h at 1,000/s",
      target: "each < 100 ms",
      measured:
        queries === null || worst === undefined
          ? "not run"
          : `${queries.hours} h synthesized${queries.hours < 24 ? " (not the target's 24 h)" : ""}; slowest ${worst.panel} ${worst.maxMs} ms (median ${worst.medianMs})`,
      met:
        queries === null || worst === undefined || queries.hours < 24 ? null : day.every((p) => p.under100),
    },
  ]
}
