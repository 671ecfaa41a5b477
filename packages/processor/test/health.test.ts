import { describe, expect, it } from "@effect/vitest"
import { runPipeline } from "@rtoa/pipeline"
import { Duration, Effect, Fiber, TestClock } from "effect"
import { inMemoryStages, records, settle, T0, testSettings } from "./fixtures.ts"

describe("processor health (the pipeline's reports, in-memory stages)", () => {
  it.effect("health: backing off (since when, why) while writes fail, running again after", () =>
    Effect.gen(function* () {
      yield* TestClock.setTime(T0)
      const stages = yield* inMemoryStages({ sinkFailures: 3 })
      const health = stages.health
      yield* health.started
      const fiber = yield* Effect.fork(runPipeline(testSettings()).pipe(Effect.provide(stages.layer)))
      yield* stages.source.push(records(10))
      yield* settle
      expect(yield* health.snapshot).toMatchObject({
        state: "backing_off",
        since: T0,
        reason: expect.stringMatching(/ClickHouse write: injected sink failure/),
      })
      yield* TestClock.adjust(Duration.seconds(3))
      yield* settle
      expect(yield* health.snapshot).toMatchObject({ state: "running", lastCommitAt: T0 + 3_000 })
      yield* stages.source.service.drain
      yield* Fiber.join(fiber)
    }),
  )

  it.effect("health: stalled when records wait and nothing is committed for the stall timeout", () =>
    Effect.gen(function* () {
      yield* TestClock.setTime(T0)
      const stages = yield* inMemoryStages()
      const health = stages.health
      yield* health.started
      yield* health.check
      stages.metrics.fetched = 5
      yield* TestClock.adjust(Duration.seconds(30))
      yield* health.check
      expect((yield* health.snapshot).state).toBe("running")
      yield* TestClock.adjust(Duration.seconds(1))
      yield* health.check
      expect(yield* health.snapshot).toMatchObject({
        state: "stalled",
        reason: expect.stringMatching(/^5 records waiting/),
      })
      yield* health.committed
      expect((yield* health.snapshot).state).toBe("running")
      yield* health.fail("dead-letter limit")
      expect(yield* health.snapshot).toMatchObject({ state: "failed", reason: "dead-letter limit" })
    }),
  )
})
