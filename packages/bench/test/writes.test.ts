import * as fs from "node:fs"
import * as path from "node:path"
import { findWorkspaceRoot } from "@rtoa/core"
import { Either } from "effect"
import { describe, expect, it } from "vitest"
import { decodeResult, encodeResult, type TableWrites } from "../src/results.ts"
import { renderSummary } from "../src/summary.ts"
import { insertsTarget } from "../src/targets.ts"
import { compareInserts, parseTableCounters, type TablesSample, tableWrites } from "../src/writes.ts"
import { fixedRun, sampleResult } from "./fixtures.ts"

const counters = (blocks: number, merged = 0, active = 1) => ({ blocks, merged, active })
const sample = (t: number, tables: Record<string, ReturnType<typeof counters>>): TablesSample => ({
  t,
  tables: Object.entries(tables).map(([table, c]) => ({ table, ...c })),
})

const writes = (table: string, insertsPerSec: number): TableWrites => ({
  table,
  seconds: 30,
  inserts: insertsPerSec * 30,
  insertsPerSec,
  partsCreated: insertsPerSec * 30,
  activePartsAtEnd: 5,
})

describe("writes per table", () => {
  it("parses system.parts counters, 64-bit integers quoted", () => {
    expect(
      parseTableCounters([
        { table: "raw_events", blocks: "120", merged: "7", active: "4" },
        { table: "metrics_minutely", blocks: 3, merged: 0, active: 3 },
        { table: "", blocks: "1", merged: "0", active: "1" },
        { table: "broken", blocks: "x", merged: "0", active: "1" },
      ]),
    ).toEqual([
      { table: "raw_events", blocks: 120, merged: 7, active: 4 },
      { table: "metrics_minutely", blocks: 3, merged: 0, active: 3 },
    ])
  })

  it("counts the blocks and merged parts between the window's own samples", () => {
    const samples = [
      // Before the window: not used.
      sample(500, { raw_events: counters(1), ingest_stats: counters(1) }),
      sample(1_000, { raw_events: counters(10, 1), ingest_stats: counters(2) }),
      sample(2_000, { raw_events: counters(20, 2), ingest_stats: counters(2) }),
      sample(5_000, {
        raw_events: counters(40, 4, 6),
        ingest_stats: counters(2),
        metrics_minutely: counters(15, 0, 3),
      }),
      // After the window: only its active parts count (the run's end).
      sample(9_000, {
        raw_events: counters(55, 6, 2),
        ingest_stats: counters(3),
        metrics_minutely: counters(20),
      }),
    ]
    expect(tableWrites(samples, 800, 5_500)).toEqual([
      {
        table: "raw_events",
        seconds: 4,
        inserts: 30,
        insertsPerSec: 7.5,
        partsCreated: 33,
        activePartsAtEnd: 2,
      },
      // metrics_minutely had no part at the window's start: counted from block 0.
      {
        table: "metrics_minutely",
        seconds: 4,
        inserts: 15,
        insertsPerSec: 3.8,
        partsCreated: 15,
        activePartsAtEnd: 1,
      },
    ])
  })

  it("measures nothing from fewer than two samples in the window", () => {
    const samples = [sample(1_000, { raw_events: counters(1) }), sample(9_000, { raw_events: counters(9) })]
    expect(tableWrites(samples, 2_000, 8_000)).toEqual([])
    expect(tableWrites(samples.slice(0, 1), 0, 8_000)).toEqual([])
  })

  it("compares each table with the reference's same table, else its busiest", () => {
    const ours = [writes("raw_events", 5), writes("integrity_minutely", 5), writes("ingest_stats", 12)]
    const engine = [writes("raw_events", 10), writes("metrics_minutely", 9)]
    expect(compareInserts(ours, engine)).toEqual([
      { table: "raw_events", ours: 5, reference: 10, referenceTable: "raw_events", ok: true },
      { table: "integrity_minutely", ours: 5, reference: 10, referenceTable: "raw_events", ok: true },
      { table: "ingest_stats", ours: 12, reference: 10, referenceTable: "raw_events", ok: false },
    ])
    expect(compareInserts(ours, [])).toEqual([])
  })

  it("judges the target at every rate both ran", () => {
    const run = (system: string, rate: number, tables: ReadonlyArray<TableWrites>) => ({
      ...fixedRun(system, rate, 200),
      tables,
    })
    const fixed = [
      run("processor", 100, [writes("raw_events", 5), writes("metrics_minutely", 5)]),
      run("kafka-engine-tuned", 100, [writes("raw_events", 9.9), writes("metrics_minutely", 9.9)]),
      run("processor", 1_000, [writes("raw_events", 5), writes("metrics_minutely", 11)]),
      run("kafka-engine-tuned", 1_000, [writes("raw_events", 10), writes("metrics_minutely", 10)]),
      // No tuned engine at this rate: not judged.
      run("processor", 10_000, [writes("raw_events", 50)]),
    ]
    const met = insertsTarget(fixed.slice(0, 2))
    expect(met.met).toBe(true)
    expect(met.measured).toBe("100/s: busiest raw_events 5.0 vs 9.9")
    const missed = insertsTarget(fixed)
    expect(missed.met).toBe(false)
    expect(missed.measured).toContain(
      "1,000/s: busiest metrics_minutely 11.0 vs 10.0; over: metrics_minutely",
    )
    expect(missed.measured).not.toContain("10,000/s")
    expect(insertsTarget([fixedRun("processor", 100, 200)]).met).toBeNull()
  })

  it("renders a row per table and run, and older results without the field", () => {
    const r = sampleResult()
    const withTables = {
      ...r,
      fixedRate: r.fixedRate.map((x, i) => (i === 0 ? { ...x, tables: [writes("raw_events", 4.96)] } : x)),
      drain: r.drain.map((x) => ({ ...x, tables: [] })),
    }
    const md = renderSummary(withTables)
    expect(md).toContain("## Writes per table")
    expect(md).toContain("| processor | 100/s | raw_events | 5.0 | 149 (30) | 149 | 5 |")
    expect(md).toContain("| kafka-engine-tuned | drain (150,000 events) | – | – | – | – | – |")
    expect(renderSummary(r)).not.toContain("## Writes per table")
    const back = decodeResult(JSON.parse(JSON.stringify(encodeResult(withTables))))
    expect(Either.isRight(back) && back.right.fixedRate[0]?.tables).toEqual([writes("raw_events", 4.96)])
  })

  it("still decodes every committed result file", () => {
    const dir = path.join(findWorkspaceRoot(), "bench/results")
    const files = fs.readdirSync(dir).filter((f) => f.endsWith(".json"))
    expect(files.length).toBeGreaterThan(0)
    for (const f of files)
      expect(Either.isRight(decodeResult(JSON.parse(fs.readFileSync(path.join(dir, f), "utf8")))), f).toBe(
        true,
      )
  })
})
