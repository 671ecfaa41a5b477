import type { BenchResult, DashboardLoad } from "./results.ts"

/** The console's section of the Markdown summary (summary.ts). */

const n = (v: number | undefined | null) =>
  v === undefined || v === null ? "–" : Math.round(v).toLocaleString("en-US")

export const table = (head: ReadonlyArray<string>, rows: ReadonlyArray<ReadonlyArray<string>>) =>
  [
    `| ${head.join(" | ")} |`,
    `| ${head.map((_, i) => (i === 0 ? ":--" : "--:")).join(" | ")} |`,
    ...rows.map((r) => `| ${r.join(" | ")} |`),
  ].join("\n")

const loads = (r: BenchResult): ReadonlyArray<readonly [string, DashboardLoad]> => [
  ...r.fixedRate.flatMap((x) =>
    x.dashboards === undefined ? [] : [[`${x.system} @ ${n(x.rate)}/s`, x.dashboards] as const],
  ),
  ...r.drain.flatMap((x) =>
    x.dashboards === undefined ? [] : [[`${x.system}: drain`, x.dashboards] as const],
  ),
]

export const renderConsole = (r: BenchResult): ReadonlyArray<string> => {
  const c = r.console
  if (c === undefined) return []
  const out: Array<string> = ["", `## Operators' console (${c.dashboards} simulated dashboards)`]
  if (c.comparisons.length > 0)
    out.push(
      "",
      "A/B within one run: the dashboards closed and open in periods ordered closed, open, open, closed (so a drift over the run weighs on both alike; fixed rates: four over the measured window, each period's first second left out; drain: 4 s periods, the first 0.5 s left out, rows written per second of each half within the drain's p10-p90), each half measured on its own (ratio = open / closed; the issue: p99 at most x1.05, drain rate at least x0.95).",
      "",
      table(
        ["run", "metric", "without", "with", "ratio", "within 5%"],
        c.comparisons.map((x) => [
          x.run,
          x.metric,
          x.without < 10 ? x.without.toFixed(2) : n(x.without),
          x.with < 10 ? x.with.toFixed(2) : n(x.with),
          `x${x.ratio.toFixed(3)}`,
          x.ok === null ? "–" : x.ok ? "yes" : "**no**",
        ]),
      ),
    )
  const runs = loads(r)
  if (runs.length > 0)
    out.push(
      "",
      "What the dashboards requested (latency as the client saw it, ms):",
      "",
      table(
        ["run", "route", "requests", "errors", "p50", "p95", "max"],
        runs.flatMap(([run, load]) =>
          load.routes.map((x, i) => [
            i === 0 ? `${run} (${load.seconds} s)` : "",
            x.route,
            n(x.requests),
            n(x.errors),
            n(x.latencyMs?.p50),
            n(x.latencyMs?.p95),
            n(x.latencyMs?.max),
          ]),
        ),
      ),
      "",
      ...runs.map(
        ([run, load]) =>
          `- ${run}: stream events ${Object.entries(load.streamEvents)
            .map(([k, v]) => `${k} ${n(v)}`)
            .join(
              ", ",
            )}; stream reopened ${load.streamReconnects} times${load.firstError === null ? "" : `; first error: ${load.firstError}`}`,
      ),
    )
  const q = c.queries
  if (q !== null) {
    out.push(
      "",
      `### Panel queries on ${q.hours} h at ${n(q.eventsPerSec)} events/s${q.hours < 24 ? " (--quick: not the target's 24 h)" : ""}`,
      "",
      `${n(q.events)} events synthesized in ${q.synthesisS} s (${Object.entries(q.stagesS)
        .map(([k, v]) => `${k} ${v} s`)
        .join(
          ", ",
        )}); whole step ${q.elapsedS} s. Tables: ${q.tables.map((t) => `${t.table} ${t.parts} parts, ${t.mb} MB`).join("; ")}.`,
      "The processor's own query functions on the read-only session with the endpoint's default limits (1 thread); 5 runs after a warm-up.",
      "",
      table(
        ["panel", "range", "step s", "points", "median ms", "max ms", "< 100 ms"],
        q.panels.map((p) => [
          p.panel,
          p.range,
          n(p.stepS),
          n(p.points),
          p.medianMs.toFixed(1),
          p.maxMs.toFixed(1),
          p.under100 ? "yes" : "**no**",
        ]),
      ),
    )
  }
  return out
}
