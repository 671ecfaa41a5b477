import { describe, expect, it } from "@effect/vitest"
import { ClickHouseError } from "@rtoa/core"
import { Effect, Layer, Schedule } from "effect"
import {
  decodeRecords,
  EventSink,
  type EventSinkService,
  type SinkBatch,
  sourceRecord,
  writeGroups,
  writeRowsAhead,
} from "../src/index.ts"
import { eventJson, T0 } from "./fixtures.ts"

const DAY = 86_400_000

/** Events with these ids, one per UTC day from T0 (so each is its own group at one partition per insert). */
const eventsOnDays = (ids: ReadonlyArray<string>) =>
  decodeRecords(
    ids.map((id, i) =>
      sourceRecord(0, i, eventJson(i, { event_id: id, event_time: new Date(T0 + i * DAY).toISOString() })),
    ),
    T0 + ids.length * DAY,
    10 * DAY,
  ).events

const ids = (batch: SinkBatch) => batch.rows.map((r) => r.event_id).join(",")

/**
 * A sink with the overlap, journaling each step. `refuse`: ids the engine refuses (any write
 * holding one fails as Rejected); `aggregatesDown`: the first N aggregate writes fail (Unavailable).
 */
const journalingSink = (options: { refuse?: ReadonlyArray<string>; aggregatesDown?: number }) => {
  const journal: Array<string> = []
  let down = options.aggregatesDown ?? 0
  const refused = (batch: SinkBatch) => batch.rows.some((r) => options.refuse?.includes(r.event_id))
  const rejected = () => new ClickHouseError({ reason: "Rejected", code: 469, message: "refused" })
  const service: EventSinkService = {
    write: (batch) =>
      Effect.suspend(() => {
        if (refused(batch)) return Effect.fail(rejected())
        journal.push(`write ${ids(batch)}`)
        return Effect.void
      }),
    writeRowsFirst: (batch) =>
      Effect.suspend(() => {
        if (refused(batch)) return Effect.fail(rejected())
        journal.push(`rows ${ids(batch)}`)
        return Effect.succeed(
          Effect.suspend(() => {
            if (down > 0) {
              down -= 1
              journal.push(`aggregates ${ids(batch)} failed`)
              return Effect.fail(new ClickHouseError({ reason: "Unavailable", message: "down" }))
            }
            journal.push(`aggregates ${ids(batch)}`)
            return Effect.void
          }),
        )
      }),
  }
  return { journal, layer: Layer.succeed(EventSink, service) }
}

const settings = { retry: Schedule.recurs(3), maxPartitionsPerInsert: 1 }

describe("writeRowsAhead (rows now, aggregates awaited later)", () => {
  it.effect("a failed aggregates insert is written again, rows first, with the failure counted once", () =>
    Effect.gen(function* () {
      const sink = journalingSink({ aggregatesDown: 1 })
      const failures: Array<string> = []
      const hooks = {
        retrying: (e: ClickHouseError) => Effect.sync(() => failures.push(e.reason)),
        succeeded: Effect.void,
      }
      const groups = writeGroups(eventsOnDays(["a"]), settings.maxPartitionsPerInsert)
      const letters = yield* Effect.flatten(writeRowsAhead(groups, settings, hooks)).pipe(
        Effect.provide(sink.layer),
      )
      expect(letters).toEqual([])
      expect(sink.journal).toEqual(["rows a", "aggregates a failed", "write a"])
      expect(failures).toEqual(["Unavailable"])
    }),
  )

  it.effect(
    "a refused row in a later group is isolated there; the groups before it are not dead-lettered",
    () =>
      Effect.gen(function* () {
        const sink = journalingSink({ refuse: ["bad"] })
        const hooks = { retrying: () => Effect.void, succeeded: Effect.void }
        const groups = writeGroups(eventsOnDays(["a", "bad"]), settings.maxPartitionsPerInsert)
        expect(groups.map((g) => ids(g.batch))).toEqual(["a", "bad"])
        const letters = yield* Effect.flatten(writeRowsAhead(groups, settings, hooks)).pipe(
          Effect.provide(sink.layer),
        )
        expect(letters.map((l) => [l.reason, l.record.offset])).toEqual([["rejected_by_clickhouse", "1"]])
        // Group 1's rows were in and its aggregates started; the sequential pass writes it again (idempotent).
        expect(sink.journal).toEqual(["rows a", "write a"])
      }),
  )
})
