import { Effect } from "effect"
import type { BenchError } from "./procs.ts"
import type { TableWrites } from "./results.ts"

/**
 * What a system asks of its ClickHouse tables: inserts per second and parts created, per table.
 * Read from system.parts alone, the same way for the processor and the Kafka engine, with no
 * log table (chDB 26.7 has neither system.part_log nor system.query_log) and no change to the
 * systems measured:
 *
 * - A MergeTree table numbers every block an insert writes (one counter per table, across its
 *   partitions), and a merged part keeps the range of the parts it covers. So the highest
 *   max_block_number of the table's parts counts the blocks written since it was created. Each
 *   such block is one new part: an INSERT (or a Kafka engine flush through a materialized view)
 *   whose rows span n partitions counts n, which is what the "about one insert per second per
 *   table" advice is about.
 * - Merged parts (level > 0) stay listed, inactive, for old_parts_lifetime (8 minutes) after a
 *   later merge replaces them, so their count grows by the parts merges wrote.
 *
 * The bench samples these counters with the process's CPU and memory and cuts the measured
 * window afterwards, like windowStats.
 */

/** One table's counters at one moment. */
export interface TableCounters {
  readonly table: string
  /** Highest block number: blocks (new parts) written by inserts since the table was created. */
  readonly blocks: number
  /** Parts written by merges, still listed (active or not). */
  readonly merged: number
  /** Active parts. */
  readonly active: number
}

/** The counters of every MergeTree table of the system's database. */
export const tableCountersSql = `SELECT
    table,
    max(max_block_number) AS blocks,
    countIf(level > 0) AS merged,
    countIf(active) AS active
FROM system.parts
WHERE database = currentDatabase()
GROUP BY table
ORDER BY table`

const toNumber = (v: unknown): number => (typeof v === "number" ? v : Number(v))

/** Parses the rows of tableCountersSql; rows without a table name or with non-numbers are dropped. */
export const parseTableCounters = (
  rows: ReadonlyArray<Record<string, unknown>>,
): ReadonlyArray<TableCounters> =>
  rows.flatMap((r) => {
    const c = {
      table: typeof r.table === "string" ? r.table : "",
      blocks: toNumber(r.blocks),
      merged: toNumber(r.merged),
      active: toNumber(r.active),
    }
    return c.table !== "" && [c.blocks, c.merged, c.active].every(Number.isFinite) ? [c] : []
  })

/** The counters now, through a system's SQL endpoint. */
export const queryTableCounters = (
  query: (sql: string) => Effect.Effect<ReadonlyArray<Record<string, unknown>>, BenchError>,
) => Effect.map(query(tableCountersSql), parseTableCounters)

/** Counters sampled at `t` (epoch ms). */
export interface TablesSample {
  readonly t: number
  readonly tables: ReadonlyArray<TableCounters>
}

const round1 = (x: number) => Math.round(x * 10) / 10

/**
 * Writes per table over [from, to] (epoch ms), from the first sample at or after `from` and the
 * last at or before `to` (the window's own samples, as windowStats takes them). Tables written in
 * the window only, busiest first; empty when the window holds fewer than two samples. Active
 * parts are those of the last sample of the series (the run's end).
 */
export const tableWrites = (
  samples: ReadonlyArray<TablesSample>,
  from: number,
  to: number,
): ReadonlyArray<TableWrites> => {
  const inWindow = samples.filter((s) => s.t >= from && s.t <= to)
  const a = inWindow[0]
  const b = inWindow.at(-1)
  const end = samples.at(-1)
  if (a === undefined || b === undefined || end === undefined || b.t <= a.t) return []
  const seconds = (b.t - a.t) / 1_000
  const before = new Map(a.tables.map((c) => [c.table, c]))
  const atEnd = new Map(end.tables.map((c) => [c.table, c]))
  return b.tables
    .flatMap((c) => {
      const inserts = c.blocks - (before.get(c.table)?.blocks ?? 0)
      const mergedParts = Math.max(0, c.merged - (before.get(c.table)?.merged ?? 0))
      if (inserts <= 0 && mergedParts === 0) return []
      return [
        {
          table: c.table,
          seconds: round1(seconds),
          inserts,
          insertsPerSec: round1(inserts / seconds),
          partsCreated: inserts + mergedParts,
          activePartsAtEnd: atEnd.get(c.table)?.active ?? c.active,
        },
      ]
    })
    .sort((x, y) => y.insertsPerSec - x.insertsPerSec || x.table.localeCompare(y.table))
}

/** One table of a system at one rate: its inserts/s against the reference's. */
export interface InsertsComparison {
  readonly table: string
  readonly ours: number
  /** The reference's inserts/s on the same table, or on its busiest when it does not write this one. */
  readonly reference: number
  readonly referenceTable: string
  readonly ok: boolean
}

/**
 * Each table `ours` writes against the reference's inserts/s on the same table; a table the
 * reference does not write (the processor's console tables) against the reference's busiest
 * table, so that no table of ours takes more inserts per second than any of the reference's.
 * Empty when the reference wrote nothing.
 */
export const compareInserts = (
  ours: ReadonlyArray<TableWrites>,
  reference: ReadonlyArray<TableWrites>,
): ReadonlyArray<InsertsComparison> => {
  const busiest = reference.reduce<TableWrites | undefined>(
    (best, t) => (best === undefined || t.insertsPerSec > best.insertsPerSec ? t : best),
    undefined,
  )
  if (busiest === undefined) return []
  return ours.map((t) => {
    const same = reference.find((r) => r.table === t.table) ?? busiest
    return {
      table: t.table,
      ours: t.insertsPerSec,
      reference: same.insertsPerSec,
      referenceTable: same.table,
      ok: t.insertsPerSec <= same.insertsPerSec,
    }
  })
}

/** For the log line: inserts/s per table (tables only merged in the window left out). */
export const describeWrites = (tables: ReadonlyArray<TableWrites>) =>
  tables.length === 0
    ? "inserts/s per table: not measured"
    : `inserts/s per table: ${tables
        .filter((t) => t.inserts > 0)
        .map((t) => `${t.table} ${t.insertsPerSec}`)
        .join(", ")}`
