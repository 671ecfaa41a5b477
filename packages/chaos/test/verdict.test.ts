import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import { keepBrokerLog, logTails, tailLines, writeVerdict } from "../src/artifacts.ts"
import { compare, type Observed } from "../src/compare.ts"
import { diffEvents } from "../src/event-diff.ts"
import { formatRanges, parsePositionKey, toRanges } from "../src/positions.ts"
import { readTruth } from "../src/truth.ts"
import { deadLetterRanges, minuteDeltas, renderVerdict, type Verdict } from "../src/verdict.ts"

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), "rtoa-verdict-"))
const at = (partition: number, offset: number) => ({ partition, offset })

describe("positions", () => {
  it("folds positions into consecutive ranges per partition, duplicates once", () => {
    const ranges = toRanges([at(1, 5), at(0, 3), at(1, 4), at(1, 6), at(1, 6), at(1, 9), at(0, 2)])
    expect(ranges).toEqual([
      { partition: 0, from: 2, to: 3, count: 2 },
      { partition: 1, from: 4, to: 6, count: 3 },
      { partition: 1, from: 9, to: 9, count: 1 },
    ])
    expect(formatRanges(ranges)).toBe("0:2-3 (2), 1:4-6 (3), 1:9")
    expect(formatRanges(ranges, 1)).toBe("0:2-3 (2), ... 2 more range(s)")
    expect(formatRanges([])).toBe("none")
  })

  it("parses partition:offset keys and refuses anything else", () => {
    expect(parsePositionKey("2:1234")).toEqual(at(2, 1234))
    expect(parsePositionKey("undefined:undefined")).toBeUndefined()
  })
})

describe("event diff", () => {
  it("names missing events by topic position and extra ones by stored position", () => {
    const topic = new Map([
      ["a", [at(0, 0)]],
      ["b", [at(0, 1), at(2, 7)]],
      ["c", [at(0, 2)]],
    ])
    const stored = new Map([
      ["a", [at(0, 0)]],
      ["z", [at(1, 40)]],
    ])
    const diff = diffEvents(new Set(["a", "b", "c", "lost"]), topic, stored)
    expect(diff.missing).toEqual({
      count: 3,
      ranges: [
        { partition: 0, from: 1, to: 2, count: 2 },
        { partition: 2, from: 7, to: 7, count: 1 },
      ],
      unlocated: 1,
      sample: ["b", "c", "lost"],
    })
    expect(diff.extra).toMatchObject({ count: 1, ranges: [{ partition: 1, from: 40, to: 40 }], unlocated: 0 })
  })
})

describe("verdict", () => {
  const observed = (over: Partial<Observed> = {}): Observed => ({
    rawFinal: 2,
    rawPhysical: 3,
    perMinute: new Map([["2026-11-25 10:00:00", { events: 2, users: 1 }]]),
    rawPerMinute: new Map([["2026-11-25 10:00:00", 2]]),
    deadLetterRecords: 1,
    deadLetterDistinct: 1,
    malformedInTopic: 1,
    notDeadLettered: [],
    wronglyDeadLettered: [],
    ...over,
  })
  const truth = () => {
    const file = path.join(tmp(), "truth.jsonl")
    const lines = [
      { kind: "valid", event_id: "a", user_id: "u", minute: "2026-11-25T10:00:00Z" },
      { kind: "valid", event_id: "b", user_id: "u", minute: "2026-11-25T10:00:00Z" },
      { kind: "malformed", defect: "empty_object" },
    ]
    fs.writeFileSync(file, lines.map((l) => JSON.stringify(l)).join("\n"))
    return readTruth(file)
  }

  it("reports the differing minutes with deltas, and which checks failed", async () => {
    const result = compare(
      await truth(),
      observed({
        rawFinal: 1,
        perMinute: new Map([["2026-11-25 10:00:00", { events: 1, users: 1 }]]),
        rawPerMinute: new Map([["2026-11-25 10:00:00", 1]]),
        notDeadLettered: [at(0, 9)],
      }),
    )
    expect(result.ok).toBe(false)
    expect(result.checks.filter((c) => !c.pass).map((c) => c.label)).toEqual([
      "distinct valid events = raw_events FINAL",
      "positions dead-lettered xor malformed",
    ])
    expect(minuteDeltas(result.minutesDiffering)).toEqual([
      {
        minute: "2026-11-25 10:00:00",
        truth: { events: 2, users: 1 },
        metrics: { events: 1, users: 1 },
        raw: 1,
        eventsDelta: -1,
        usersDelta: 0,
      },
    ])
    expect(result.report).toMatch(/FAIL\s+2026-11-25 10:00:00\s+2\s+1\s+1\s+1\s+1/)
  })

  it("passes on equality, and counts unacknowledged sends as a failed check", async () => {
    const expected = await truth()
    expect(compare(expected, observed()).ok).toBe(true)
    const unacked = compare({ ...expected, unacked: 3 }, observed())
    expect(unacked.ok).toBe(false)
    expect(unacked.checks.find((c) => !c.pass)?.observed).toBe(3)
  })

  const verdict = (work: string, over: Partial<Verdict> = {}): Verdict => ({
    ok: false,
    seed: 42,
    profile: "full",
    work,
    durationSeconds: 181.4,
    step: "done",
    timeline: ["+10.0s SIGKILL 1/6"],
    checks: [],
    failedChecks: [
      { label: "distinct valid events = raw_events FINAL", truth: 10, observed: 7, pass: false },
    ],
    minutes: {
      compared: 3,
      differing: minuteDeltas([
        {
          minute: "2026-11-25 10:01:00",
          truth: { events: 5, users: 4 },
          metrics: { events: 2, users: 2 },
          raw: 2,
        },
      ]),
    },
    events: {
      missing: {
        count: 3,
        ranges: toRanges([at(1, 100), at(1, 101), at(1, 102)]),
        unlocated: 0,
        sample: ["x"],
      },
      extra: { count: 0, ranges: [], unlocated: 0, sample: [] },
    },
    deadLetters: deadLetterRanges([at(1, 101)], []),
    groupOffsets: [{ partition: 1, committed: 90, end: 300 }],
    logTails: { "processor.log": ["processor running"] },
    ...over,
  })

  it("renders what differs: checks, minutes, positions, offsets, logs", () => {
    const text = renderVerdict(verdict("/tmp/w"))
    expect(text).toContain("chaos FAILED: profile=full seed=42 (replay: CHAOS_SEED=42)")
    expect(text).toContain("distinct valid events = raw_events FINAL: truth 10, observed 7 (-3)")
    expect(text).toContain(
      "2026-11-25 10:01:00: events 2 vs truth 5 (-3), users 2 vs 4 (-2), raw_events FINAL 2",
    )
    expect(text).toContain("missing from raw_events: 3 event_id(s) at 3 position(s) in the events topic")
    expect(text).toContain("ranges (partition:offsets): 1:100-102 (3)")
    expect(text).toContain("extra in raw_events (never acknowledged): none")
    expect(text).toContain("malformed but not dead-lettered (1): 1:101")
    expect(text).toContain("1: 90/300")
    expect(text).toContain("last lines of processor.log:\n  processor running")
  })

  it("renders an early failure with its step and reason", () => {
    const text = renderVerdict(
      verdict("/tmp/w", {
        step: "wait for the processor to catch up",
        failure: "processor did not become healthy",
        failedChecks: [],
      }),
    )
    expect(text).toMatch(/step: wait for the processor to catch up\nwhy: processor did not become healthy/)
  })

  it("writes verdict.txt and a verdict.json that parses back", () => {
    const work = tmp()
    const text = writeVerdict(verdict(work))
    expect(fs.readFileSync(path.join(work, "verdict.txt"), "utf8")).toBe(text)
    const json = JSON.parse(fs.readFileSync(path.join(work, "verdict.json"), "utf8")) as Verdict
    expect(json.events?.missing.ranges).toEqual([{ partition: 1, from: 100, to: 102, count: 3 }])
    expect(json.step).toBe("done")
  })
})

describe("work directory helpers", () => {
  it("tails a log, and tolerates a missing one", () => {
    const dir = tmp()
    const file = path.join(dir, "p.log")
    fs.writeFileSync(file, `${Array.from({ length: 50 }, (_, i) => `line ${i}`).join("\n")}\n`)
    expect(tailLines(file, 3)).toEqual(["line 47", "line 48", "line 49"])
    expect(tailLines(path.join(dir, "nope.log"), 3)).toEqual([])
  })

  it("keeps the broker log out of the data dir that is deleted", () => {
    const work = tmp()
    fs.mkdirSync(path.join(work, "kafka-data", "kafka"), { recursive: true })
    fs.writeFileSync(path.join(work, "kafka-data", "kafka", "kafka.log"), "broker\n")
    keepBrokerLog(path.join(work, "kafka-data"), work)
    expect(fs.readFileSync(path.join(work, "broker.log"), "utf8")).toBe("broker\n")
    expect(() => keepBrokerLog(path.join(work, "none"), work)).not.toThrow()
  })
})

describe("log tails", () => {
  it("leaves out stack frames", () => {
    const work = tmp()
    fs.writeFileSync(
      path.join(work, "processor.log"),
      ["processor running", "Error: boom", "    at f (x.js:1:1)", "    at g (y.js:2:2)", "restarting"].join(
        "\n",
      ),
    )
    expect(logTails(work, 3)["processor.log"]).toEqual(["processor running", "Error: boom", "restarting"])
    expect(logTails(work)["broker.log"]).toEqual([])
  })
})
