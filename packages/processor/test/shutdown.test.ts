import { describe, expect, it } from "@effect/vitest"
import { Duration, Effect, Fiber, Schedule, TestClock } from "effect"
import { runUntilInterrupted } from "../src/app.ts"
import { inMemoryStages, pipelineDefaults, records, T0 } from "./fixtures.ts"

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
        ...pipelineDefaults,
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

  it.effect(
    "an interrupt while the sink is down and the source is full stops after the timeout, committing nothing",
    () =>
      Effect.gen(function* () {
        yield* TestClock.setTime(T0)
        const stages = yield* inMemoryStages({ sinkFailures: Number.POSITIVE_INFINITY, sourceCapacity: 1 })
        const settings = {
          batchMaxRows: 2,
          batchMaxWait: Duration.hours(1),
          maxClockSkew: Duration.minutes(5),
          retry: Schedule.spaced("1 second"),
          ...pipelineDefaults,
        }
        const fiber = yield* Effect.fork(
          runUntilInterrupted(settings, 10_000).pipe(Effect.provide(stages.layer)),
        )
        // The first batch is taken and retried forever; the second fills the one-slot queue.
        yield* stages.source.push(records(2))
        yield* Effect.repeatN(Effect.yieldNow(), 50)
        yield* stages.source.push(records(2, 2))
        const stopping = yield* Effect.fork(Fiber.interrupt(fiber))
        yield* TestClock.adjust("9 seconds")
        expect(stopping.unsafePoll()).toBeNull()
        yield* TestClock.adjust("2 seconds")
        yield* Fiber.join(stopping)
        expect(stages.journal.filter((line) => line.startsWith("commit"))).toEqual([])
        expect(stages.metrics.sinkFailures).toBeGreaterThan(5)
      }),
  )
})
