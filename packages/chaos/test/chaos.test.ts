import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import { compare } from "../src/compare.ts"
import { makeSchedule, profiles } from "../src/scenario.ts"
import { readTruth } from "../src/truth.ts"

const truthFile = (lines: ReadonlyArray<object>) => {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "rtoa-truth-")), "truth.jsonl")
  fs.writeFileSync(file, lines.map((l) => JSON.stringify(l)).join("\n"))
  return file
}

describe("chaos ground truth", () => {
  it("counts distinct events and users per minute; duplicates and malformed apart", async () => {
    const expected = await readTruth(
      truthFile([
        { kind: "valid", event_id: "a", user_id: "u1", minute: "2026-11-25T10:00:00Z" },
        { kind: "valid", event_id: "b", user_id: "u1", minute: "2026-11-25T10:00:00Z" },
        { kind: "duplicate", event_id: "a", user_id: "u1", minute: "2026-11-25T10:00:00Z" },
        { kind: "valid", event_id: "c", user_id: "u2", minute: "2026-11-25T10:01:00Z" },
        { kind: "malformed", defect: "invalid_json" },
      ]),
    )
    expect(expected).toMatchObject({ sent: 5, validDistinct: 3, duplicates: 1, malformed: 1, unacked: 0 })
    expect([...expected.perMinute]).toEqual([
      ["2026-11-25 10:00:00", { events: 2, users: 1 }],
      ["2026-11-25 10:01:00", { events: 1, users: 1 }],
    ])
  })

  it("fails the comparison on any difference, and passes on equality", async () => {
    const expected = await readTruth(
      truthFile([{ kind: "valid", event_id: "a", user_id: "u", minute: "2026-11-25T10:00:00Z" }]),
    )
    const same = {
      rawFinal: 1,
      rawPhysical: 2,
      perMinute: new Map([["2026-11-25 10:00:00", { events: 1, users: 1 }]]),
      rawPerMinute: new Map([["2026-11-25 10:00:00", 1]]),
      deadLetterRecords: 0,
      deadLetterDistinct: 0,
      malformedInTopic: 0,
      notDeadLettered: [],
      wronglyDeadLettered: [],
    }
    expect(compare(expected, same).ok).toBe(true)
    expect(
      compare(expected, { ...same, perMinute: new Map([["2026-11-25 10:00:00", { events: 2, users: 1 }]]) })
        .ok,
    ).toBe(false)
    expect(compare(expected, { ...same, rawFinal: 2 }).ok).toBe(false)
    expect(compare(expected, { ...same, deadLetterDistinct: 1 }).ok).toBe(false)
    expect(compare(expected, { ...same, notDeadLettered: [{ partition: 0, offset: 3 }] }).ok).toBe(false)
    expect(compare(expected, { ...same, wronglyDeadLettered: [{ partition: 1, offset: 4 }] }).ok).toBe(false)
    // A producer resend of a malformed record is in the topic twice and dead-lettered twice: fine.
    expect(compare(expected, { ...same, malformedInTopic: 1, deadLetterDistinct: 1 }).ok).toBe(true)
    const oneMalformed = await readTruth(truthFile([{ kind: "malformed", defect: "empty_object" }]))
    const none = { ...same, rawFinal: 0, perMinute: new Map() }
    expect(compare(oneMalformed, { ...none, malformedInTopic: 1, deadLetterDistinct: 1 }).ok).toBe(true)
    expect(compare(oneMalformed, none).ok).toBe(false)
    expect(compare(expected, { ...same, perMinute: new Map() }).report).toMatch(/FAIL\s+2026-11-25 10:00:00/)
  })

  it("spreads the kills over the production window, reproducibly from a seed", () => {
    const profile = profiles.ci
    if (profile === undefined) throw new Error("no ci profile")
    const a = makeSchedule(profile, 42)
    expect(makeSchedule(profile, 42)).toEqual(a)
    expect(a.killsAt).toHaveLength(profile.kills)
    const window = (profile.events / profile.rate) * 1_000
    expect([...a.killsAt].sort((x, y) => x - y)).toEqual(a.killsAt)
    expect(a.killsAt.every((t) => t > 0 && t < window)).toBe(true)
    expect(Math.max(...a.consumers)).toBe(3)
  })
})
