import { describe, expect, it } from "@effect/vitest"
import { Effect, Fiber, Ref, TestClock } from "effect"
import type { Dashboards } from "../src/dashboards.ts"
import { alternate, cpuCoresOver, inPeriods, measured, type Period, totalMs } from "../src/interleave.ts"
import { CLOCK_TICKS } from "../src/procstat.ts"
import type { Sample } from "../src/sampler.ts"

const periods: ReadonlyArray<Period> = [
  { from: 0, to: 5_000, open: false },
  { from: 5_000, to: 10_000, open: true },
  { from: 10_000, to: 15_000, open: false },
  { from: 15_000, to: 18_000, open: true },
]

describe("A/B periods", () => {
  it.effect("closed, open, open, closed from now until the end, closing the dashboards at the end", () =>
    Effect.gen(function* () {
      const calls: Array<string> = []
      const dashboards: Dashboards = {
        report: Effect.die("not used"),
        close: Effect.sync(() => calls.push("close")),
        reopen: Effect.sync(() => calls.push("open")),
      }
      const ref = yield* Ref.make<ReadonlyArray<Period>>([])
      const fiber = yield* Effect.fork(alternate(dashboards, 4_000, 22_000, ref))
      yield* TestClock.adjust("30 seconds")
      yield* Fiber.join(fiber)
      expect(yield* Ref.get(ref)).toEqual([
        { from: 0, to: 4_000, open: false },
        { from: 4_000, to: 8_000, open: true },
        { from: 8_000, to: 12_000, open: true },
        { from: 12_000, to: 16_000, open: false },
        { from: 16_000, to: 20_000, open: false },
        { from: 20_000, to: 22_000, open: true },
      ])
      expect(calls).toEqual(["close", "open", "open", "close", "close", "open", "close"])
    }),
  )

  it("keeps one kind, without each period's margin, clipped to the measured window", () => {
    expect(measured(periods, true, 1_000)).toEqual([
      { from: 6_000, to: 10_000, open: true },
      { from: 16_000, to: 18_000, open: true },
    ])
    expect(measured(periods, false, 1_000, 2_000, 12_000)).toEqual([
      { from: 2_000, to: 5_000, open: false },
      { from: 11_000, to: 12_000, open: false },
    ])
    expect(measured(periods, true, 1_000, 0, 6_000)).toEqual([])
    expect(totalMs(measured(periods, false, 1_000))).toBe(8_000)
  })

  it("builds a SQL condition over the periods, false when there are none", () => {
    expect(inPeriods("ingested_at", [{ from: 1.7, to: 2_000, open: true }])).toBe(
      "(ingested_at >= fromUnixTimestamp64Milli(toInt64(1), 'UTC') AND ingested_at < fromUnixTimestamp64Milli(toInt64(2000), 'UTC'))",
    )
    expect(inPeriods("event_time", measured(periods, true, 1_000)).split(" OR ")).toHaveLength(2)
    expect(inPeriods("event_time", [])).toBe("0")
  })

  it("takes CPU over the samples inside each period, skipping periods with fewer than two", () => {
    const sample = (t: number, ticks: number): Sample => ({
      t,
      ticks,
      threads: new Map(),
      brokerTicks: 0,
      machineBusyTicks: -1,
      cpuPressureUs: -1,
      rssKb: 0,
      hwmKb: 0,
      anonKb: 0,
      fileKb: 0,
      lag: -1,
      engineBytes: -1,
    })
    const samples = [
      sample(0, 0),
      sample(1_000, 100),
      sample(2_000, 150),
      sample(5_500, 400),
      sample(6_000, 450),
    ]
    expect(
      cpuCoresOver(samples, [
        { from: 0, to: 2_000, open: false },
        { from: 2_500, to: 5_000, open: false },
        { from: 5_000, to: 6_000, open: false },
      ]),
    ).toBe(Math.round((200 / CLOCK_TICKS / 2.5) * 1_000) / 1_000)
    expect(cpuCoresOver(samples, [{ from: 2_500, to: 5_000, open: true }])).toBe(0)
  })
})
