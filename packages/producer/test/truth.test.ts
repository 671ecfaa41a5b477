import { describe, expect, it } from "@effect/vitest"
import { makeGenerator } from "../src/generator.ts"
import { formatSummary } from "../src/report.ts"
import { minuteOf, truthRecord } from "../src/truth.ts"

describe("truth records", () => {
  it("floors event_time to its minute in UTC", () => {
    expect(minuteOf("2026-11-25T10:07:59.999Z")).toBe("2026-11-25T10:07:00Z")
    expect(minuteOf("2026-11-25T12:07:30+02:00")).toBe("2026-11-25T10:07:00Z")
    expect(minuteOf(Date.UTC(2026, 10, 25, 10, 8))).toBe("2026-11-25T10:08:00Z")
  })

  it("describes valid, duplicate and malformed messages", () => {
    const g = makeGenerator({ seed: 5, users: 50, duplicateRatio: 0.3, malformedRatio: 0.3 })
    const messages = g.take(200, Date.UTC(2026, 10, 25, 10, 0, 30))
    for (const m of messages) {
      const t = truthRecord(m)
      if (m.kind === "malformed") expect(t).toEqual({ kind: "malformed", defect: m.defect })
      else
        expect(t).toEqual({
          kind: m.kind,
          event_id: m.event?.event_id,
          user_id: m.event?.user_id,
          minute: minuteOf(m.event?.event_time ?? 0),
          dimension_channel: m.event?.dimension_channel,
          event_type: m.event?.event_type,
          event_source: m.event?.event_source,
        })
    }
    const first = messages[0]
    if (first) expect(truthRecord(first, false).unacked).toBe(true)
  })

  it("summarises a run on one line", () => {
    expect(
      formatSummary({
        outcome: "completed",
        sent: 12_000,
        valid: 11_000,
        duplicates: 600,
        malformed: 400,
        unacked: 0,
        skipped: 0,
        elapsedMs: 120_000,
        achievedRate: 100,
        targetRate: 100,
      }),
    ).toBe(
      "producer completed: sent 12,000 (valid 11,000, duplicates 600, malformed 400) in 120.0 s, achieved 100.0 msg/s (target 100/s)",
    )
  })
})
