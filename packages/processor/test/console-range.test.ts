import { describe, expect, it } from "vitest"
import { normalizeRange } from "../src/console/range.ts"

/** The console's default step: a minute (finalized rows) up to a day, at most 1,440 points after. */
describe("normalizeRange", () => {
  const to = 1_767_607_200
  const points = (r: { from: number; to: number; step: number }) => (r.to - r.from) / r.step

  it("steps by a minute for every range up to 24 h", () => {
    for (const span of [60, 900, 3_600, 21_600, 86_400]) {
      const r = normalizeRange({ from: to - span, to })
      expect([r.step, points(r)]).toEqual([60, span / 60])
    }
  })

  it("takes the smallest whole-minute step within 1,440 points beyond a day", () => {
    expect(normalizeRange({ from: to - 86_460, to }).step).toBe(120)
    expect(normalizeRange({ from: to - 7 * 86_400, to }).step).toBe(420)
    const week = normalizeRange({ from: to - 7 * 86_400 - 30, to })
    expect(points(week)).toBeLessThanOrEqual(1_441)
  })

  it("keeps a step the caller asks for, aligning the range to it", () => {
    const r = normalizeRange({ from: to - 3_601, to: to + 1, step: 300, source: "s" })
    expect(r).toEqual({ from: to - 3_900, to: to + 300, step: 300, source: "s", type: "" })
  })
})
