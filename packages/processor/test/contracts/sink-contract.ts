import { describe, expect, it } from "@effect/vitest"
import {
  type DecodedEvent,
  type EventSinkService,
  type SinkBatch,
  sourceRecord,
  toSinkBatch,
} from "@rtoa/pipeline"
import { Effect, type Scope } from "effect"

/**
 * The EventSink contract, run on the in-memory sink (unit project) and on the ClickHouse sink
 * against the real engine (integration project):
 *   idempotence        a batch written again changes no stored event and no minute metric (events
 *                      and users; `received` counts deliveries on purpose and is not compared)
 *   failure reporting  a table that is gone fails the write as Schema; a row the engine refuses
 *                      fails the whole write as Rejected, and nothing of that write is stored
 */
export type SinkFault = "none" | "table-dropped" | "refuses-user-poison"

/** What the engine holds: the stored event ids (raw_events FINAL) and the minute metrics. */
export interface StoredView {
  readonly events: ReadonlyArray<string>
  /** "minute(ms) channel/source/type: events users", sorted. */
  readonly minutes: ReadonlyArray<string>
}

export interface SinkUnderTest {
  readonly service: EventSinkService
  readonly stored: Effect.Effect<StoredView>
}

export interface SinkHarness {
  /** A sink on an empty store, with `fault` in place before the first write. */
  readonly make: (fault: SinkFault) => Effect.Effect<SinkUnderTest, never, Scope.Scope>
}

/** A minute metric's line for StoredView (time as ClickHouse prints a DateTime, in UTC). */
export const minuteLine = (
  time: string,
  channel: string,
  source: string,
  type: string,
  events: number,
  users: number,
) =>
  `${Date.parse(`${time.replace(" ", "T").slice(0, 19)}Z`)} ${channel}/${source}/${type}: ${events} ${users}`

const T = Date.parse("2026-11-25T10:00:00.000Z")

const batch = (ids: ReadonlyArray<string>, user = (i: number) => `u-${i % 3}`): SinkBatch =>
  toSinkBatch(
    ids.map(
      (id, i): DecodedEvent => ({
        event: {
          event_id: id,
          user_id: user(i),
          event_type: "click",
          dimension_channel: i % 2 === 0 ? "Web" : "Mobile",
          event_source: "web-frontend",
          event_time: T + i * 20_000,
        },
        record: sourceRecord(0, i, null),
      }),
    ),
  )

const ids = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `${prefix}-${i}`)

export const sinkContract = (name: string, harness: SinkHarness, timeout?: number) =>
  describe(`EventSink contract: ${name}`, () => {
    it.scopedLive(
      "a batch written again changes no stored event and no minute metric",
      () =>
        Effect.gen(function* () {
          const sink = yield* harness.make("none")
          const once = batch(ids("idem", 8))
          yield* sink.service.write(once)
          const first = yield* sink.stored
          expect(first.events).toEqual([...ids("idem", 8)].sort())
          // 8 events 20 s apart from 10:00:00: minutes 10:00 (3), 10:01 (3), 10:02 (2), by channel.
          expect(first.minutes).toEqual([
            minuteLine("2026-11-25 10:00:00", "Mobile", "web-frontend", "click", 1, 1),
            minuteLine("2026-11-25 10:00:00", "Web", "web-frontend", "click", 2, 2),
            minuteLine("2026-11-25 10:01:00", "Mobile", "web-frontend", "click", 2, 2),
            minuteLine("2026-11-25 10:01:00", "Web", "web-frontend", "click", 1, 1),
            minuteLine("2026-11-25 10:02:00", "Mobile", "web-frontend", "click", 1, 1),
            minuteLine("2026-11-25 10:02:00", "Web", "web-frontend", "click", 1, 1),
          ])
          yield* sink.service.write(once)
          expect(yield* sink.stored).toEqual(first)
        }),
      timeout,
    )

    it.scopedLive(
      "a write to a table that is gone fails as Schema",
      () =>
        Effect.gen(function* () {
          const sink = yield* harness.make("table-dropped")
          const error = yield* Effect.flip(sink.service.write(batch(ids("gone", 3))))
          expect(error._tag).toBe("ClickHouseError")
          expect(error.reason).toBe("Schema")
        }),
      timeout,
    )

    it.scopedLive(
      "a write holding a row the engine refuses fails whole as Rejected, storing nothing of it",
      () =>
        Effect.gen(function* () {
          const sink = yield* harness.make("refuses-user-poison")
          const poisoned = batch(ids("refused", 5), (i) => (i === 3 ? "poison" : `u-${i}`))
          const error = yield* Effect.flip(sink.service.write(poisoned))
          expect(error._tag).toBe("ClickHouseError")
          expect(error.reason).toBe("Rejected")
          expect(yield* sink.stored).toEqual({ events: [], minutes: [] })
          // The refusal is about the rows: the sink takes the next clean write.
          yield* sink.service.write(batch(ids("clean", 2)))
          expect((yield* sink.stored).events).toEqual(ids("clean", 2))
        }),
      timeout,
    )
  })
