import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { Either } from "effect"
import { describe, expect, it } from "vitest"
import { parseOptions } from "../src/cli.ts"
import { parseStorage, perEventCosts, splitThreads, storagePerEvent, topicBytes } from "../src/costs.ts"
import { parseCpuPressure, parseProcStat } from "../src/procstat.ts"
import { type DrainRun, decodeResult, encodeResult } from "../src/results.ts"
import { renderSummary } from "../src/summary.ts"
import { sampleResult } from "./fixtures.ts"

const drain = (over: Partial<DrainRun> = {}): DrainRun => ({
  system: "processor",
  events: 100_000,
  ingested: 100_000,
  eventsPerSec: 40_000,
  overallPerSec: 38_000,
  cpuCores: 1.2,
  threadsCores: {
    MainThread: 0.6,
    V8Worker: 0.2,
    "v8:ProfEvntProc": 0.04,
    ThreadPool: 0.2,
    "libuv-worker": 0.16,
  },
  rssPeakMb: 900,
  rssAnonPeakMb: 600,
  engineMemPeakMb: 50,
  ...over,
})

describe("per-event costs", () => {
  it("splits a process's CPU into the JS main thread, V8's helpers and the rest", () => {
    const t = splitThreads(drain().threadsCores)
    expect(t.main).toBeCloseTo(0.6)
    expect(t.v8).toBeCloseTo(0.24)
    expect(t.rest).toBeCloseTo(0.36)
  })

  it("derives µs of CPU per event, the peer's from its fastest drain, bytes per event per table", () => {
    const storage = parseStorage([
      { table: "raw_events", rows: "100000", parts: "3", bytes: "2700000", raw: "10800000" },
      { table: "metrics_minutely", rows: 40, parts: 2, bytes: 1_700_000, raw: 1_700_000 },
      { table: "ingest_stats", rows: 5, parts: 1, bytes: 4_000, raw: 800 },
      { table: "", rows: 1, parts: 1, bytes: 1, raw: 1 },
      { table: "broken", rows: "x", parts: 1, bytes: 1, raw: 1 },
    ])
    expect(storage.map((s) => s.table)).toEqual(["raw_events", "metrics_minutely", "ingest_stats"])
    const peers = [
      drain({ system: "kafka-engine-default", eventsPerSec: 90_000, cpuCores: 0.4 }),
      drain({ system: "kafka-engine-tuned", eventsPerSec: 100_000, cpuCores: 1.1 }),
    ]
    const c = perEventCosts(drain({ storage }), peers, { bytes: 23_300_000, records: 100_000 })
    expect(c).toEqual({
      source: "processor: backlog drain (100000 events)",
      eventsPerSec: 40_000,
      processorUs: 30,
      mainThreadUs: 15,
      v8HelpersUs: 6,
      engineUs: 9,
      peer: { system: "kafka-engine-tuned", eventsPerSec: 100_000, cpuUs: 11 },
      kafkaBytesPerEvent: 233,
      // ingest_stats: 0.04 B per event, left out.
      disk: [
        { table: "raw_events", bytesPerEvent: 27, compression: 4 },
        { table: "metrics_minutely", bytesPerEvent: 17, compression: 1 },
      ],
    })
    expect(perEventCosts(undefined, peers, undefined)).toBeUndefined()
    expect(perEventCosts(drain({ eventsPerSec: 0 }), [], undefined)).toBeUndefined()
    expect(perEventCosts(drain(), [], { bytes: 0, records: 10 })?.kafkaBytesPerEvent).toBeNull()
    expect(storagePerEvent(storage, 0)).toEqual([])
  })

  it("sums a topic's log segments wherever the broker keeps its partitions", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "rtoa-costs-"))
    try {
      const file = (p: string, bytes: number) => {
        fs.mkdirSync(path.dirname(path.join(dir, p)), { recursive: true })
        fs.writeFileSync(path.join(dir, p), Buffer.alloc(bytes))
      }
      file("kafka/data/t.1-0/00000000000000000000.log", 100)
      file("kafka/data/t.1-0/00000000000000000000.index", 1_000)
      file("kafka/data/t.1-11/00000000000000000000.log", 50)
      file("kafka/data/t.1-11/00000000000000004000.log", 7)
      file("kafka/data/tx1-0/00000000000000000000.log", 1_000)
      file("kafka/data/t.1-dlq-0/00000000000000000000.log", 1_000)
      expect(topicBytes(dir, "t.1")).toBe(157)
      expect(topicBytes(path.join(dir, "missing"), "t.1")).toBe(0)
    } finally {
      fs.rmSync(dir, { recursive: true, force: true })
    }
  })

  it("reads the machine's busy CPU and CPU pressure", () => {
    expect(parseProcStat("cpu  100 5 50 1000 20 1 4 10 0 0\ncpu0 1 2 3 4\n")).toEqual({
      busy: 170,
      total: 1190,
    })
    expect(parseProcStat("intr 1 2 3")).toBeUndefined()
    expect(parseCpuPressure("some avg10=1.00 avg60=2.00 avg300=3.00 total=8672490096\nfull total=0")).toBe(
      8_672_490_096,
    )
    expect(parseCpuPressure("")).toBe(-1)
  })
})

describe("scale-out", () => {
  const members = (argv: ReadonlyArray<string>) => {
    const p = parseOptions(argv)
    if (p._tag !== "Run") throw new Error(p._tag)
    return p.options.scaleMembers
  }

  it("runs in the default run, with --quick or --drain-only only when asked", () => {
    expect(members([])).toEqual([1, 2, 4])
    expect(members(["--skip-scale-out"])).toEqual([])
    expect(members(["--quick"])).toEqual([])
    expect(members(["--drain-only"])).toEqual([])
    expect(members(["--drain-only", "--scale-out", "--scale-members", "1,3"])).toEqual([1, 3])
    expect(parseOptions(["--scale-members", "1,13"])._tag).toBe("Invalid")
    expect(parseOptions(["--scale-members", "0"])._tag).toBe("Invalid")
    expect(parseOptions(["--scale-out", "--skip-scale-out"])._tag).toBe("Invalid")
  })

  it("is reported and kept in the result file, which still decodes without it", () => {
    const runs = [1, 2].map((m) =>
      drain({
        system: `processor, ${m} members`,
        members: m,
        partitions: 12,
        eventsPerSec: 40_000 * m,
        cpuCores: m,
        machineCores: 2,
        cpuPressure: 0.25,
      }),
    )
    const r = { ...sampleResult(), scaleOut: runs }
    const md = renderSummary(r)
    expect(md).toContain("## Scale-out: one backlog on 12 partitions")
    expect(md).toContain("| 2 | 80,000 | x2.00 | 2.00 | 25.0 |")
    expect(md).toContain("| 2.00 | 25% |")
    expect(renderSummary(sampleResult())).not.toContain("## Scale-out")
    const back = decodeResult(JSON.parse(JSON.stringify(encodeResult(r))))
    expect(Either.isRight(back) && back.right.scaleOut).toEqual(runs)
  })
})
