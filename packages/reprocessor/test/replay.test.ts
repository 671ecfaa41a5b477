import { describe, expect, it } from "@effect/vitest"
import { decodeMessage } from "@rtoa/core"
import {
  decodeForReplay,
  EventSink,
  makeInMemorySink,
  type PipelineSettings,
  sourceRecord,
} from "@rtoa/pipeline"
import { Chunk, Duration, Effect, Layer, Schedule, Stream, TestClock } from "effect"
import { ProgressSilent } from "../src/progress.ts"
import { replayRecords } from "../src/replay.ts"

const T0 = Date.parse("2026-11-25T10:00:00.000Z")
const SKEW = 300_000
const event = (i: number, eventTime: number) =>
  JSON.stringify({ event_id: `e-${i}`, user_id: `u-${i % 3}`, event_time: new Date(eventTime).toISOString() })

// The replay's settings (forReplay) but for a short retry: the test clock does not run by itself.
const settings: PipelineSettings = {
  batchMaxRows: 4,
  batchMaxWait: Duration.millis(50),
  maxClockSkew: Duration.millis(SKEW),
  futureAgainst: "record-timestamp",
  retry: Schedule.recurs(3),
  decode: decodeMessage,
  maxPartitionsPerInsert: 100,
  deadLetterLimits: { maxRatio: 1, ratioWindow: 10_000, maxConsecutive: 0, maxPayloadBytes: 65_536 },
}

describe("replay decode stage", () => {
  it("judges 'future' against each record's own timestamp, not the day of the replay", () => {
    const replayDay = T0 + 7 * 86_400_000
    const records = [
      // Accepted live: 1 min ahead of its record. Accepted again.
      sourceRecord(0, 0, event(0, T0 + 60_000), { timestamp: T0 }),
      // Refused live (10 min ahead); by the replay day that time has passed, still refused.
      sourceRecord(0, 1, event(1, T0 + 600_000), { timestamp: T0 }),
      sourceRecord(0, 2, "{broken", { timestamp: T0 }),
      // No timestamp: judged against the replay's clock.
      sourceRecord(0, 3, event(3, replayDay + 60_000), { timestamp: -1 }),
    ]
    const { events, deadLetters } = decodeForReplay(records, SKEW, replayDay)
    expect(events.map((e) => e.event.event_id)).toEqual(["e-0", "e-3"])
    expect(deadLetters.map((l) => [l.record.offset, l.reason])).toEqual([
      ["1", "event_time_in_future"],
      ["2", "undecodable"],
    ])
  })

  it("never judges against a record timestamp later than the replay's clock", () => {
    const { events } = decodeForReplay(
      [sourceRecord(0, 0, event(0, T0 + 86_400_000), { timestamp: T0 + 86_400_000 })],
      SKEW,
      T0,
    )
    expect(events).toEqual([])
  })
})

describe("replay through the processor's stages (in-memory sink)", () => {
  it.effect("writes every decoded event in micro-batches, counts refusals, retries a failing write", () =>
    Effect.gen(function* () {
      yield* TestClock.setTime(T0 + 3_600_000)
      const sink = yield* makeInMemorySink({ failures: 2 })
      const records = [
        ...Array.from({ length: 9 }, (_, i) =>
          sourceRecord(i % 2, i, event(i, T0 + i * 1_000), { timestamp: T0 }),
        ),
        sourceRecord(0, 9, JSON.stringify({ event_id: "x" }), { timestamp: T0 }),
      ]
      const stats = yield* replayRecords(Stream.fromIterable(records), settings).pipe(
        Effect.provide(Layer.merge(Layer.succeed(EventSink, sink.service), ProgressSilent)),
      )
      expect(stats).toEqual({ records: 10, events: 9, deadLetters: { invalid: 1 }, batches: 3 })
      const batches = yield* sink.batches
      expect(batches.flatMap((b) => b.rows.map((r) => r.event_id))).toEqual(
        Array.from({ length: 9 }, (_, i) => `e-${i}`),
      )
      // The same window/group stage as the processor: per minute, distinct users and events.
      const aggregates = batches.flatMap((b) => b.aggregates)
      expect(aggregates.every((a) => a.time_window === "2026-11-25 10:00:00")).toBe(true)
      expect(Chunk.size(Chunk.fromIterable(aggregates))).toBe(3)
    }),
  )

  it.effect("gives up after the retry schedule and fails with the sink's error", () =>
    Effect.gen(function* () {
      // A clock after the event, so the event is written (and the write fails), not refused.
      yield* TestClock.setTime(T0 + 3_600_000)
      const sink = yield* makeInMemorySink({ failures: 10 })
      const result = yield* replayRecords(
        Stream.fromIterable([sourceRecord(0, 0, event(0, T0), { timestamp: T0 })]),
        settings,
      ).pipe(Effect.provide(Layer.merge(Layer.succeed(EventSink, sink.service), ProgressSilent)), Effect.flip)
      expect(result._tag).toBe("ClickHouseError")
      expect(yield* sink.batches).toEqual([])
    }),
  )
})
