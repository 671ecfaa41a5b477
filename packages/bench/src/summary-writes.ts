import type { BenchResult, TableWrites } from "./results.ts"
import { table } from "./summary-console.ts"

/** The writes-per-table section of the Markdown summary (summary.ts); see writes.ts. */

const n = (v: number) => Math.round(v).toLocaleString("en-US")

const runs = (r: BenchResult): ReadonlyArray<readonly [string, string, ReadonlyArray<TableWrites>]> => [
  ...r.fixedRate.flatMap((x) =>
    x.tables === undefined ? [] : [[x.system, `${n(x.rate)}/s`, x.tables] as const],
  ),
  ...r.drain.flatMap((x) =>
    x.tables === undefined ? [] : [[x.system, `drain (${n(x.events)} events)`, x.tables] as const],
  ),
]

export const renderWrites = (r: BenchResult): ReadonlyArray<string> => {
  const rows = runs(r)
  if (rows.length === 0) return []
  return [
    "",
    "## Writes per table (each run's measured window)",
    "",
    "From each system's system.parts, sampled with its CPU: inserts = blocks written into the table (one new part each; an insert spanning n partitions counts n; a materialized view's target counts its own), parts created = inserts plus the parts merges wrote. Tables not written in the window are left out.",
    "",
    table(
      ["system", "run", "table", "inserts/s", "inserts (window s)", "parts created", "active parts at end"],
      rows.flatMap(([system, run, tables]) =>
        tables.length === 0
          ? [[system, run, "–", "–", "–", "–", "–"]]
          : tables.map((t, i) => [
              i === 0 ? system : "",
              i === 0 ? run : "",
              t.table,
              t.insertsPerSec.toFixed(1),
              `${n(t.inserts)} (${t.seconds})`,
              n(t.partsCreated),
              n(t.activePartsAtEnd),
            ]),
      ),
    ),
  ]
}
