import { describe, expect, it } from "vitest"
import { percentile, slope, summarize } from "../src/stats.ts"

describe("percentile (nearest rank)", () => {
  const sorted = Array.from({ length: 100 }, (_, i) => i + 1) // 1..100

  it("gives the smallest value with at least p% at or below it", () => {
    expect(percentile(sorted, 50)).toBe(50)
    expect(percentile(sorted, 95)).toBe(95)
    expect(percentile(sorted, 99)).toBe(99)
    expect(percentile(sorted, 100)).toBe(100)
    expect(percentile(sorted, 0)).toBe(1)
  })

  it("rounds the rank up on small samples", () => {
    expect(percentile([10, 20, 30], 50)).toBe(20)
    expect(percentile([10, 20, 30], 99)).toBe(30)
    expect(percentile([7], 99)).toBe(7)
  })

  it("is undefined for no data", () => {
    expect(percentile([], 50)).toBeUndefined()
    expect(summarize([])).toBeUndefined()
  })
})

describe("summarize", () => {
  it("sorts its input and reports p50/p95/p99/max/mean", () => {
    const values = Array.from({ length: 1000 }, (_, i) => 1000 - i) // unsorted 1000..1
    expect(summarize(values)).toEqual({ n: 1000, p50: 500, p95: 950, p99: 990, max: 1000, mean: 500.5 })
  })
})

describe("slope", () => {
  it("is the least-squares slope", () => {
    expect(
      slope([
        [0, 1],
        [1, 3],
        [2, 5],
      ]),
    ).toBeCloseTo(2)
    expect(
      slope([
        [0, 5],
        [1, 5],
        [2, 5],
      ]),
    ).toBe(0)
    expect(slope([[1, 1]])).toBe(0)
  })
})
