import { Either } from "effect"
import { describe, expect, it } from "vitest"
import { decodeResult, encodeResult } from "../src/results.ts"
import { evaluateTargets } from "../src/targets.ts"
import { sampleResult } from "./fixtures.ts"

describe("result schema", () => {
  it("round-trips through JSON", () => {
    const result = sampleResult()
    const text = JSON.stringify(encodeResult(result))
    const back = decodeResult(JSON.parse(text))
    expect(Either.isRight(back)).toBe(true)
    if (Either.isRight(back)) expect(back.right).toEqual(result)
  })

  it("refuses a file with a missing or mistyped field", () => {
    const { machine: _m, ...noMachine } = sampleResult()
    expect(Either.isLeft(decodeResult(noMachine))).toBe(true)
    expect(Either.isLeft(decodeResult({ ...sampleResult(), version: 2 }))).toBe(true)
    const badRun = { ...sampleResult(), fixedRate: [{ ...sampleResult().fixedRate[0], rate: "100" }] }
    expect(Either.isLeft(decodeResult(badRun))).toBe(true)
  })
})

describe("targets", () => {
  it("judges the issue's targets from the measurements", () => {
    const r = sampleResult()
    const targets = evaluateTargets(r.fixedRate, r.drain)
    const byName = new Map(targets.map((t) => [t.name, t]))
    expect(byName.get("p99 latency at 100/s")?.met).toBe(true)
    expect(byName.get("p99 latency at 10,000/s")?.met).toBeNull()
    expect(byName.get("throughput vs the Kafka engine")?.met).toBe(false)
    // 250 vs 600 ms is 2.4x, not 5x.
    expect(byName.get("p99 vs the Kafka engine's best p99")?.met).toBe(false)
    expect(byName.get("processor peak RSS at max rate")?.met).toBe(false)
    // No live search, and a drain below 50k/s bounds any sustained rate from above.
    expect(byName.get("sustained throughput end to end")?.met).toBe(false)
  })
})
