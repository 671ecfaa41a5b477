import { describe, expect, it } from "@effect/vitest"
import { Effect, TestClock } from "effect"
import { formatDuration, makeProgress, rateAndEta, renderBar, renderLine } from "../src/progress.ts"

describe("progress rendering", () => {
  it("computes rate and ETA from what is done so far", () => {
    expect(rateAndEta({ done: 1_000, total: 3_000, elapsedMs: 2_000 })).toEqual({ rate: 500, etaMs: 4_000 })
    expect(rateAndEta({ done: 0, total: 3_000, elapsedMs: 0 }).etaMs).toBeUndefined()
    expect(rateAndEta({ done: 5, total: 5, elapsedMs: 0 }).etaMs).toBe(0)
  })

  it("draws a bar with percent, counts, rate and ETA", () => {
    expect(renderBar({ done: 1_200, total: 3_000, elapsedMs: 500 }, 10)).toBe(
      "[####------]  40%  1,200/3,000 records  2,400 rec/s  ETA 0.8 s",
    )
    expect(renderBar({ done: 0, total: 10, elapsedMs: 0 }, 4)).toBe(
      "[----]   0%  0/10 records  0 rec/s  ETA ?",
    )
  })

  it("writes plain lines, the last one with the total time", () => {
    expect(renderLine({ done: 1_200, total: 3_000, elapsedMs: 500 })).toBe(
      "progress: 1,200/3,000 records (40%), 2,400 records/s, ETA 0.8 s",
    )
    expect(renderLine({ done: 3_000, total: 3_000, elapsedMs: 75_000 })).toBe(
      "progress: 3,000/3,000 records (100%), 40 records/s, done in 1 min 15 s",
    )
  })

  it("formats durations for people", () => {
    expect([formatDuration(870), formatDuration(42_000), formatDuration(3_725_000)]).toEqual([
      "0.9 s",
      "42 s",
      "1 h 02 min",
    ])
  })

  it.effect("plain mode prints at most one line per interval, and always the last", () =>
    Effect.gen(function* () {
      const out: Array<string> = []
      const progress = yield* makeProgress({ mode: "plain", write: (t) => out.push(t), intervalMs: 2_000 })
      yield* progress.start(100)
      yield* progress.advance(10)
      yield* TestClock.adjust("1 second")
      yield* progress.advance(10)
      yield* TestClock.adjust("1 second")
      yield* progress.advance(10)
      yield* progress.advance(70)
      yield* progress.finish
      expect(out).toEqual([
        "progress: 30/100 records (30%), 15 records/s, ETA 4.7 s\n",
        "progress: 100/100 records (100%), 50 records/s, done in 2.0 s\n",
      ])
    }),
  )

  it.effect("tty mode redraws in place and ends the line when finished", () =>
    Effect.gen(function* () {
      const out: Array<string> = []
      const progress = yield* makeProgress({ mode: "tty", write: (t) => out.push(t), intervalMs: 100 })
      yield* progress.start(4)
      yield* TestClock.adjust("1 second")
      yield* progress.advance(2)
      yield* progress.advance(2)
      yield* progress.finish
      expect(out.length).toBe(3)
      expect(out[0]).toMatch(/^\r\[#+-+\] {2}50% {2}2\/4 records {2}2 rec\/s {2}ETA 1\.0 s/)
      expect(out[0]?.endsWith("\u001b[K")).toBe(true)
      expect(out[1]).toMatch(/^\r\[#+\] 100% {2}4\/4 records/)
      expect(out[2]).toBe("\n")
    }),
  )
})
