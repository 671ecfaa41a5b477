import { describe, expect, it } from "@effect/vitest"
import { Duration, Effect, Fiber, TestClock } from "effect"
import { type PipelineSettings, runPipeline, sourceRecord } from "../src/index.ts"
import { eventJson, inMemoryStages, records, settle, T0, testSettings } from "./fixtures.ts"

const settings = (overrides: Partial<PipelineSettings> = {}) =>
  testSettings({ batchMaxRows: 100, ...overrides })

describe("pipeline (in-memory stages)", () => {
  it.effect("closes a batch when it reaches batchMaxRows, without waiting for the timer", () =>
    Effect.gen(function* () {
      yield* TestClock.setTime(T0)
      const stages = yield* inMemoryStages()
      const fiber = yield* Effect.fork(
        runPipeline(settings({ batchMaxRows: 3, batchMaxWait: Duration.hours(1) })).pipe(
          Effect.provide(stages.layer),
        ),
      )
      yield* stages.source.push(records(7))
      yield* settle
      expect((yield* stages.sink.batches).map((b) => b.rows.length)).toEqual([3, 3])
      yield* TestClock.adjust(Duration.hours(1))
      yield* settle
      expect((yield* stages.sink.batches).map((b) => b.rows.length)).toEqual([3, 3, 1])
      yield* stages.source.service.drain
      yield* Fiber.join(fiber)
    }),
  )

  it.effect("closes a partial batch when batchMaxWait elapses", () =>
    Effect.gen(function* () {
      yield* TestClock.setTime(T0)
      const stages = yield* inMemoryStages()
      const fiber = yield* Effect.fork(runPipeline(settings()).pipe(Effect.provide(stages.layer)))
      yield* stages.source.push(records(2))
      yield* settle
      expect(yield* stages.sink.batches).toHaveLength(0)
      yield* TestClock.adjust(Duration.millis(200))
      yield* settle
      expect((yield* stages.sink.batches).map((b) => b.rows.length)).toEqual([2])
      yield* stages.source.service.drain
      yield* Fiber.join(fiber)
    }),
  )

  it.effect("commits the next offset per partition only after the sink acknowledged", () =>
    Effect.gen(function* () {
      yield* TestClock.setTime(T0)
      const stages = yield* inMemoryStages()
      const fiber = yield* Effect.fork(
        runPipeline(settings({ batchMaxRows: 5 })).pipe(Effect.provide(stages.layer)),
      )
      yield* stages.source.push([...records(3, 10, 0), ...records(2, 40, 1)])
      yield* settle
      expect(stages.journal).toEqual(["write 5", "commit 0@13,1@42"])
      yield* stages.source.service.drain
      yield* Fiber.join(fiber)
    }),
  )

  it.effect("retries a failing sink with backoff, holding the commit until the write lands", () =>
    Effect.gen(function* () {
      yield* TestClock.setTime(T0)
      const stages = yield* inMemoryStages({ sinkFailures: 2 })
      const fiber = yield* Effect.fork(
        runPipeline(settings({ batchMaxRows: 4 })).pipe(Effect.provide(stages.layer)),
      )
      yield* stages.source.push(records(4))
      yield* settle
      expect(stages.journal).toEqual([])
      expect(yield* stages.source.commits).toHaveLength(0)
      yield* TestClock.adjust(Duration.seconds(1))
      yield* settle
      expect(stages.journal).toEqual([])
      yield* TestClock.adjust(Duration.seconds(1))
      yield* settle
      expect(stages.journal).toEqual(["write 4", "commit 0@4"])
      expect(stages.observed.sinkFailures).toBe(2)
      yield* stages.source.service.drain
      yield* Fiber.join(fiber)
    }),
  )

  it.effect("routes bad records to dead letters and keeps every valid one of the same batch", () =>
    Effect.gen(function* () {
      yield* TestClock.setTime(T0)
      const stages = yield* inMemoryStages()
      const fiber = yield* Effect.fork(
        runPipeline(settings({ batchMaxRows: 6 })).pipe(Effect.provide(stages.layer)),
      )
      yield* stages.source.push([
        sourceRecord(0, 0, eventJson(0)),
        sourceRecord(0, 1, "{not json"),
        sourceRecord(0, 2, eventJson(2, { event_id: "" })),
        sourceRecord(0, 3, eventJson(3, { event_time: new Date(T0 + 3_600_000).toISOString() })),
        sourceRecord(0, 4, null),
        sourceRecord(0, 5, eventJson(5)),
      ])
      yield* settle
      const written = (yield* stages.sink.batches).flatMap((b) => b.rows.map((r) => r.event_id))
      expect(written).toEqual(["e-0", "e-5"])
      const letters = yield* stages.deadLetters.letters
      expect(letters.map((l) => [l.record.offset, l.reason])).toEqual([
        ["1", "undecodable"],
        ["2", "invalid"],
        ["3", "event_time_in_future"],
        ["4", "empty"],
      ])
      expect(letters[1]?.detail).toContain("event_id")
      expect(yield* stages.source.commits).toEqual([[{ topic: "events", partition: 0, offset: "6" }]])
      yield* stages.source.service.drain
      yield* Fiber.join(fiber)
    }),
  )

  it.effect("on drain, flushes and commits the last partial batch before ending", () =>
    Effect.gen(function* () {
      yield* TestClock.setTime(T0)
      const stages = yield* inMemoryStages()
      const fiber = yield* Effect.fork(
        runPipeline(settings({ batchMaxWait: Duration.hours(1) })).pipe(Effect.provide(stages.layer)),
      )
      yield* stages.source.push(records(3))
      yield* settle
      expect(stages.journal).toEqual([])
      yield* stages.source.service.drain
      yield* Fiber.join(fiber)
      expect(stages.journal).toEqual(["write 3", "commit 0@3"])
    }),
  )
})
