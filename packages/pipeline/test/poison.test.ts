import { describe, expect, it } from "@effect/vitest"
import { Effect, Exit, Fiber, TestClock } from "effect"
import type { DecodedEvent } from "../src/index.ts"
import { runPipeline, sourceRecord, splitByPartitions } from "../src/index.ts"
import { eventJson, inMemoryStages, records, settle, T0, testSettings } from "./fixtures.ts"

const DAY = 86_400_000

describe("poison-proof pipeline (in-memory stages)", () => {
  it.effect("dead-letters exactly the rows the engine refuses, writes the rest, then commits", () =>
    Effect.gen(function* () {
      yield* TestClock.setTime(T0)
      const stages = yield* inMemoryStages({ sinkRejects: (row) => row.user_id === "poison" })
      const fiber = yield* Effect.fork(runPipeline(testSettings()).pipe(Effect.provide(stages.layer)))
      yield* stages.source.push(
        Array.from({ length: 10 }, (_, i) =>
          sourceRecord(0, i, eventJson(i, i === 3 || i === 7 ? { user_id: "poison" } : {})),
        ),
      )
      yield* settle
      const letters = yield* stages.deadLetters.letters
      expect(letters.map((l) => [l.record.offset, l.reason])).toEqual([
        ["3", "rejected_by_clickhouse"],
        ["7", "rejected_by_clickhouse"],
      ])
      expect(letters[0]?.detail).toMatch(/^code 469: injected refusal of e-3/)
      const written = new Set((yield* stages.sink.batches).flatMap((b) => b.rows.map((r) => r.event_id)))
      expect([...written].sort()).toEqual(["e-0", "e-1", "e-2", "e-4", "e-5", "e-6", "e-8", "e-9"])
      expect(stages.journal.at(-1)).toBe("commit 0@10")
      expect(stages.journal.filter((l) => l.startsWith("commit"))).toHaveLength(1)
      yield* stages.source.service.drain
      yield* Fiber.join(fiber)
    }),
  )

  it.effect("stops on a schema error (fatal) without committing", () =>
    Effect.gen(function* () {
      yield* TestClock.setTime(T0)
      const stages = yield* inMemoryStages({ sinkFailures: 1, sinkFailure: "Schema" })
      const fiber = yield* Effect.fork(runPipeline(testSettings()).pipe(Effect.provide(stages.layer)))
      yield* stages.source.push(records(10))
      yield* settle
      const exit = yield* Fiber.await(fiber)
      expect(Exit.isFailure(exit) && String(exit.cause)).toMatch(/ClickHouseError/)
      expect(yield* stages.source.commits).toEqual([])
      expect(stages.observed.sinkFailures).toBe(0)
    }),
  )

  it.effect("inserts an honest backfill over 120 days in inserts of at most 100 partitions", () =>
    Effect.gen(function* () {
      yield* TestClock.setTime(T0)
      const stages = yield* inMemoryStages()
      const fiber = yield* Effect.fork(
        runPipeline(testSettings({ batchMaxRows: 120 })).pipe(Effect.provide(stages.layer)),
      )
      yield* stages.source.push(
        Array.from({ length: 120 }, (_, i) =>
          sourceRecord(0, i, eventJson(i, { event_time: new Date(T0 - i * DAY).toISOString() })),
        ),
      )
      yield* settle
      expect(stages.journal).toEqual(["write 100", "write 20", "commit 0@120"])
      yield* stages.source.service.drain
      yield* Fiber.join(fiber)
    }),
  )

  it("splits by UTC day, keeping a batch within the limit whole and in order", () => {
    const event = (ms: number, id: string) =>
      ({
        event: { event_time: ms, event_id: id },
        record: sourceRecord(0, 0, null),
      }) as unknown as DecodedEvent
    const within = [event(T0 + 5, "a"), event(T0 - DAY, "b"), event(T0, "c")]
    expect(splitByPartitions(within, 2)).toEqual([within])
    const spread = Array.from({ length: 5 }, (_, i) => event(T0 + i * DAY, `d${i}`))
    expect(splitByPartitions(spread, 2).map((g) => g.map((e) => e.event.event_id))).toEqual([
      ["d0", "d1"],
      ["d2", "d3"],
      ["d4"],
    ])
    expect(splitByPartitions([], 2)).toEqual([])
  })

  it.effect("stops before dead-lettering or committing the batch that crosses the dead-letter limit", () =>
    Effect.gen(function* () {
      yield* TestClock.setTime(T0)
      const stages = yield* inMemoryStages()
      const limits = { maxRatio: 0.5, ratioWindow: 10, maxConsecutive: 0, maxPayloadBytes: 1024 }
      const fiber = yield* Effect.fork(
        runPipeline(testSettings({ deadLetterLimits: limits })).pipe(Effect.provide(stages.layer)),
      )
      const batch = (first: number, bad: number) =>
        Array.from({ length: 10 }, (_, k) =>
          sourceRecord(0, first + k, k < bad ? "{oops" : eventJson(first + k)),
        )
      yield* stages.source.push(batch(0, 2))
      yield* settle
      yield* stages.source.push(batch(10, 8))
      yield* settle
      const exit = yield* Fiber.await(fiber)
      expect(Exit.isFailure(exit) && String(exit.cause)).toMatch(/8 of the last 10 records refused \(80\.0%/)
      expect((yield* stages.deadLetters.letters).map((l) => l.record.offset)).toEqual(["0", "1"])
      expect(yield* stages.source.commits).toEqual([[{ topic: "events", partition: 0, offset: "10" }]])
    }),
  )

  it.effect("stops on too many refused records in a row when a run limit is set", () =>
    Effect.gen(function* () {
      yield* TestClock.setTime(T0)
      const stages = yield* inMemoryStages()
      const limits = { maxRatio: 1, ratioWindow: 10, maxConsecutive: 3, maxPayloadBytes: 1024 }
      const fiber = yield* Effect.fork(
        runPipeline(testSettings({ deadLetterLimits: limits, batchMaxRows: 4 })).pipe(
          Effect.provide(stages.layer),
        ),
      )
      // Three refused at the end of one batch and one at the start of the next: a run of four.
      yield* stages.source.push([eventJson(0), "{", "{", "{"].map((v, i) => sourceRecord(0, i, v)))
      yield* settle
      yield* stages.source.push(
        ["{", eventJson(5), eventJson(6), eventJson(7)].map((v, i) => sourceRecord(0, 4 + i, v)),
      )
      yield* settle
      const exit = yield* Fiber.await(fiber)
      expect(Exit.isFailure(exit) && String(exit.cause)).toMatch(/4 refused records in a row/)
      expect(yield* stages.source.commits).toHaveLength(1)
    }),
  )
})
