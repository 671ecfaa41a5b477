import { describe, expect, it } from "@effect/vitest"
import { processBatch, sourceRecord } from "@rtoa/pipeline"
import { Chunk, Duration, Effect, Schedule, TestClock } from "effect"
import { eventJson, inMemoryStages, pipelineDefaults, T0 } from "./fixtures.ts"

describe("the pipeline's reports in the processor's metrics and health", () => {
  it.effect("a batch with a failed write and a refused record", () =>
    Effect.gen(function* () {
      yield* TestClock.setTime(T0 + 2_000)
      const stages = yield* inMemoryStages({ sinkFailures: 1 })
      yield* stages.health.started
      const settings = {
        batchMaxRows: 10,
        batchMaxWait: Duration.millis(100),
        maxClockSkew: Duration.minutes(5),
        retry: Schedule.recurs(3),
        ...pipelineDefaults,
      }
      yield* processBatch(settings)(
        Chunk.fromIterable([
          sourceRecord(0, 0, eventJson(0), { timestamp: T0 }),
          sourceRecord(0, 1, "{oops", { timestamp: T0 }),
          sourceRecord(1, 7, eventJson(1), { timestamp: T0 + 1_000 }),
        ]),
      ).pipe(Effect.provide(stages.layer))
      const m = stages.metrics
      expect([m.batches, m.consumed, m.written, m.sinkFailures, m.commitFailures]).toEqual([1, 3, 2, 1, 0])
      expect([...m.deadLetters]).toEqual([["undecodable", 1]])
      expect([...m.lag]).toEqual([
        [0, 0],
        [1, 0],
      ])
      expect([...m.lastTimestamps]).toEqual([
        [0, T0],
        [1, T0 + 1_000],
      ])
      expect(m.newestEventTime).toBe(T0 + 1_000)
      expect([m.latency.count, m.latency.sum]).toEqual([2, 3])
      expect(yield* stages.health.snapshot).toMatchObject({ state: "running", lastCommitAt: T0 + 2_000 })
    }),
  )
})
