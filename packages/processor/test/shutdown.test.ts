import { describe, expect, it } from "@effect/vitest"
import { Duration, Effect, Fiber, Schedule, TestClock } from "effect"
import { runUntilInterrupted } from "../src/app.ts"
import { inMemoryStages, records, T0 } from "./fixtures.ts"

describe("graceful shutdown", () => {
  it.effect("an interrupt (SIGINT/SIGTERM) flushes and commits the partial batch before stopping", () =>
    Effect.gen(function* () {
      yield* TestClock.setTime(T0)
      const stages = yield* inMemoryStages()
      const settings = {
        batchMaxRows: 100,
        batchMaxWait: Duration.hours(1),
        maxClockSkew: Duration.minutes(5),
        retry: Schedule.spaced("1 second"),
      }
      const fiber = yield* Effect.fork(
        runUntilInterrupted(settings, 10_000).pipe(Effect.provide(stages.layer)),
      )
      yield* stages.source.push(records(3))
      yield* Effect.repeatN(Effect.yieldNow(), 50)
      expect(stages.journal).toEqual([])
      yield* Fiber.interrupt(fiber)
      expect(stages.journal).toEqual(["write 3", "commit 0@3"])
    }),
  )
})
