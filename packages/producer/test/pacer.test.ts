import { describe, expect, it } from "@effect/vitest"
import { Effect, Fiber, Ref, TestClock } from "effect"
import { dueBy, makePacer, type PacerOptions, wakeAtNanos } from "../src/pacer.ts"

const NS = 1_000_000_000n

// A consumer that takes whatever is due, as fast as it falls due, and keeps a running total.
const drive = (options: PacerOptions, seconds: number) =>
  Effect.gen(function* () {
    const pacer = yield* makePacer(options)
    const total = yield* Ref.make(0)
    const wakeups = yield* Ref.make(0)
    const fiber = yield* Effect.fork(
      Effect.forever(
        Effect.flatMap(pacer.take(Number.MAX_SAFE_INTEGER), (n) =>
          Effect.zipRight(
            Ref.update(total, (t) => t + n),
            Ref.update(wakeups, (w) => w + 1),
          ),
        ),
      ),
    )
    yield* TestClock.adjust(`${seconds} seconds`)
    const result = {
      total: yield* Ref.get(total),
      wakeups: yield* Ref.get(wakeups),
      stats: yield* pacer.stats,
    }
    yield* Fiber.interrupt(fiber)
    return result
  })

describe("pacer", () => {
  it("dueBy counts from elapsed time, rounding down", () => {
    expect(dueBy(10, 0n)).toBe(0)
    expect(dueBy(10, 99_999_999n)).toBe(0)
    expect(dueBy(10, 100_000_000n)).toBe(1)
    expect(dueBy(3, NS)).toBe(3)
    expect(dueBy(10_000, 3_600n * NS)).toBe(36_000_000)
    expect(dueBy(7, -5n)).toBe(0)
  })

  it("wakes when the next message falls due, rounded up to a tick", () => {
    const tick = 10_000_000n
    expect(wakeAtNanos(10, 1, tick)).toBe(100_000_000n)
    expect(wakeAtNanos(3, 1, tick)).toBe(340_000_000n) // due at 333.3 ms
    expect(wakeAtNanos(10_000, 1, tick)).toBe(tick) // due at 0.1 ms: one batch per tick
  })

  for (const [rate, seconds] of [
    [10, 20],
    [100, 5],
    [10_000, 2],
  ] as const) {
    it.effect(`yields exactly ${rate}/s x ${seconds}s = ${rate * seconds} messages on simulated time`, () =>
      Effect.gen(function* () {
        const { total, wakeups, stats } = yield* drive({ rate, tick: "10 millis" }, seconds)
        expect(total).toBe(rate * seconds)
        expect(stats).toEqual({ claimed: rate * seconds, skipped: 0 })
        // Low rates wake once per message, high rates once per tick.
        expect(wakeups).toBe(Math.min(rate, 100) * seconds)
      }),
    )
  }

  it.effect("tracks the exact rate over a fractional second", () =>
    Effect.gen(function* () {
      const { total } = yield* drive({ rate: 7 }, 2.5)
      expect(total).toBe(17) // floor(7 * 2.5)
    }),
  )

  it.effect("hands out at most `max` per take; the rest stays due", () =>
    Effect.gen(function* () {
      const pacer = yield* makePacer({ rate: 1_000 })
      yield* TestClock.adjust("500 millis")
      expect(yield* pacer.take(200)).toBe(200)
      expect(yield* pacer.take(200)).toBe(200)
      expect(yield* pacer.take(200)).toBe(100)
      expect(yield* pacer.stats).toEqual({ claimed: 500, skipped: 0 })
    }),
  )

  it.effect("skips what falls due beyond the backlog cap instead of bursting it out later", () =>
    Effect.gen(function* () {
      const pacer = yield* makePacer({ rate: 100, maxBacklog: 50 })
      yield* TestClock.adjust("3 seconds") // a stalled sender: 300 due
      expect(yield* pacer.take(1_000)).toBe(50)
      expect(yield* pacer.stats).toEqual({ claimed: 50, skipped: 250 })
      yield* TestClock.adjust("100 millis")
      expect(yield* pacer.take(1_000)).toBe(10) // back on schedule: 10 per 100 ms, no burst
    }),
  )
})
