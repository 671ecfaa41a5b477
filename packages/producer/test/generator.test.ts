import { describe, expect, it } from "@effect/vitest"
import { decodeEvent, decodeMessage } from "@rtoa/core"
import { Either } from "effect"
import { type GeneratedMessage, makeGenerator, userId } from "../src/generator.ts"
import { poisonCases } from "../src/hostile.ts"
import { mulberry32, zipf } from "../src/random.ts"

const t0 = Date.UTC(2026, 10, 25, 10, 0, 0)

// 20,000 messages sent 10 ms apart (100/s), as the producer would send them.
const generate = (
  seed: number,
  count = 20_000,
  extra: { duplicateRatio?: number; malformedRatio?: number; poisonRatio?: number } = {},
) => {
  const generator = makeGenerator({
    seed,
    users: 5_000,
    duplicateRatio: extra.duplicateRatio ?? 0.05,
    malformedRatio: extra.malformedRatio ?? 0.03,
    poisonRatio: extra.poisonRatio ?? 0,
    lateRatio: 0.05,
  })
  const out: Array<GeneratedMessage> = []
  for (let i = 0; i < count; i++) out.push(generator.next(t0 + i * 10))
  return out
}

const share = (messages: ReadonlyArray<GeneratedMessage>, p: (m: GeneratedMessage) => boolean) =>
  messages.filter(p).length / messages.length

describe("generator", () => {
  it("is deterministic for a seed", () => {
    expect(generate(7, 2_000)).toEqual(generate(7, 2_000))
    expect(generate(8, 2_000)).not.toEqual(generate(7, 2_000))
  })

  it("take(n) continues the same sequence as next()", () => {
    const a = makeGenerator({ seed: 3, users: 100, duplicateRatio: 0.1, malformedRatio: 0.1 })
    const b = makeGenerator({ seed: 3, users: 100, duplicateRatio: 0.1, malformedRatio: 0.1 })
    const one = Array.from({ length: 50 }, () => a.next(t0))
    expect(b.take(50, t0)).toEqual(one)
  })

  it("valid and duplicate messages decode with the contract; malformed ones do not", () => {
    const messages = generate(11)
    for (const m of messages) {
      const text = String(m.value)
      const decoded = decodeEvent(text)
      if (m.kind === "malformed") expect(Either.isLeft(decoded), text).toBe(true)
      else {
        expect(Either.isRight(decoded), text).toBe(true)
        expect(JSON.parse(text)).toEqual(m.event)
        expect(m.key).toBe(m.event?.user_id)
      }
    }
    // Every kind of defect shows up.
    const defects = new Set(messages.map((m) => m.defect).filter((d) => d !== undefined))
    expect([...defects].sort()).toEqual([
      "bad_event_time",
      "empty_object",
      "invalid_json",
      "missing_event_id",
      "user_id_not_string",
    ])
  })

  it("valid event_ids are unique; a duplicate repeats an earlier message byte for byte", () => {
    const messages = generate(12)
    const seen = new Map<string, GeneratedMessage["value"]>()
    for (const m of messages) {
      const id = m.event?.event_id
      if (m.kind === "valid" && id !== undefined) {
        expect(seen.has(id)).toBe(false)
        seen.set(id, m.value)
      }
      if (m.kind === "duplicate" && id !== undefined) expect(seen.get(id)).toBe(m.value)
    }
  })

  it("mixes in poison from the hostile corpus, each refused for the reason the corpus names", () => {
    const messages = generate(14, 4_000, { poisonRatio: 0.05 })
    const poison = messages.filter((m) => m.defect === "poison")
    expect(poison.length / messages.length).toBeCloseTo(0.05, 1)
    const expected = new Map(poisonCases("p", t0).map((c) => [c.name, c.expect]))
    const names = new Set<string>()
    for (const m of poison) {
      const value = m.value === null ? null : Buffer.from(m.value)
      const decoded = decodeMessage(value)
      expect(Either.isLeft(decoded) && decoded.left.reason, m.poison).toBe(expected.get(m.poison ?? ""))
      names.add(m.poison ?? "")
    }
    expect(names.size).toBeGreaterThan(15)
  })

  it("injects duplicates and malformed messages at the configured ratios", () => {
    const messages = generate(13, 20_000, { duplicateRatio: 0.05, malformedRatio: 0.02 })
    expect(share(messages, (m) => m.kind === "duplicate")).toBeCloseTo(0.05, 2)
    expect(share(messages, (m) => m.kind === "malformed")).toBeCloseTo(0.02, 2)
    const none = generate(14, 5_000, { duplicateRatio: 0, malformedRatio: 0 })
    expect(none.every((m) => m.kind === "valid")).toBe(true)
  })

  it("mixes channels Web 50% / Mobile 35% / API 10% / Partner 5% with matching sources", () => {
    const valid = generate(15).filter((m) => m.kind === "valid")
    const channel = (c: string) => share(valid, (m) => m.event?.dimension_channel === c)
    expect(Math.abs(channel("Web") - 0.5)).toBeLessThan(0.015)
    expect(Math.abs(channel("Mobile") - 0.35)).toBeLessThan(0.015)
    expect(Math.abs(channel("API") - 0.1)).toBeLessThan(0.01)
    expect(Math.abs(channel("Partner") - 0.05)).toBeLessThan(0.008)
    const sources: Record<string, ReadonlyArray<string>> = {
      Web: ["web-frontend"],
      Mobile: ["ios-app", "android-app"],
      API: ["public-api"],
      Partner: ["partner-feed"],
    }
    for (const m of valid) {
      expect(sources[m.event?.dimension_channel ?? ""]).toContain(m.event?.event_source)
    }
  })

  it("skews users: the top 1% of users send a large share of events", () => {
    const valid = generate(16).filter((m) => m.kind === "valid")
    const perUser = new Map<string, number>()
    for (const m of valid) perUser.set(m.key ?? "", (perUser.get(m.key ?? "") ?? 0) + 1)
    const top = [...perUser.values()].sort((a, b) => b - a).slice(0, 50) // 1% of 5,000 users
    const topShare = top.reduce((a, b) => a + b, 0) / valid.length
    expect(topShare).toBeGreaterThan(0.35)
    expect(perUser.size).toBeGreaterThan(1_000) // ...and still a long tail
    expect(valid.every((m) => /^u-\d{6}$/.test(m.key ?? ""))).toBe(true)
  })

  it("sends event_time as the send time in UTC, a few seconds late for a small share", () => {
    for (const m of generate(17)) {
      if (m.event !== undefined)
        expect(String(m.event.event_time)).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/)
    }
    const g = makeGenerator({ seed: 18, users: 100, duplicateRatio: 0, malformedRatio: 0, lateRatio: 0.1 })
    const late = Array.from({ length: 10_000 }, () => t0 - Date.parse(String(g.next(t0).event?.event_time)))
    const lateShare = late.filter((lag) => lag > 0).length / late.length
    expect(lateShare).toBeCloseTo(0.1, 1)
    expect(Math.min(...late)).toBe(0)
    expect(Math.max(...late)).toBeLessThanOrEqual(5_000)
    expect(late.filter((lag) => lag > 0).every((lag) => lag >= 1_000)).toBe(true)
  })

  it("refuses unusable options", () => {
    expect(() => makeGenerator({ seed: 1, users: 0, duplicateRatio: 0, malformedRatio: 0 })).toThrow(
      RangeError,
    )
    expect(() => makeGenerator({ seed: 1, users: 10, duplicateRatio: 0.6, malformedRatio: 0.5 })).toThrow(
      /add up/,
    )
  })
})

describe("random", () => {
  it("mulberry32 is uniform enough and repeatable", () => {
    const r = mulberry32(1)
    const xs = Array.from({ length: 100_000 }, r)
    expect(xs.every((x) => x >= 0 && x < 1)).toBe(true)
    expect(xs.reduce((a, b) => a + b, 0) / xs.length).toBeCloseTo(0.5, 2)
    expect(mulberry32(1)()).toBe(xs[0])
  })

  it("zipf draws ranks in [1, n], rank 1 most often", () => {
    const draw = zipf(1_000, 1)
    const r = mulberry32(2)
    const counts = new Array<number>(1_001).fill(0)
    for (let i = 0; i < 50_000; i++) {
      const k = draw(r)
      expect(k >= 1 && k <= 1_000).toBe(true)
      counts[k] = (counts[k] ?? 0) + 1
    }
    // P(1) = 1 / H(1000) ≈ 0.134, P(2) ≈ 0.067
    expect((counts[1] ?? 0) / 50_000).toBeCloseTo(0.134, 1)
    expect(counts[1] ?? 0).toBeGreaterThan(counts[2] ?? 0)
    expect(userId(42)).toBe("u-000042")
  })
})
