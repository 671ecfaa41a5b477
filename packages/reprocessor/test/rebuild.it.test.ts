import * as path from "node:path"
import { describe, expect, it } from "@effect/vitest"
import { applyMigrations, ClickHouse, type ClickHouseConfig, makeClickHouse } from "@rtoa/core"
import { repoRoot, tempDir } from "@rtoa/core/test/support/it.ts"
import { ClickHouseSinkLive, EventSink } from "@rtoa/pipeline"
import { Effect, Either, Layer } from "effect"
import { makeMetricsRebuild, STAGING_PREFIX } from "../src/rebuild.ts"
import {
  between,
  bogusStates,
  deleteMetrics,
  ingest,
  MINUTE,
  makeEvents,
  metrics,
  sqlWindow,
  stagingTables,
  truth,
} from "./support.ts"

// One embedded engine for the file; each test works on its own days, so they stay independent.
const config: ClickHouseConfig = {
  _tag: "Embedded",
  dataPath: path.join(tempDir("rebuild"), "chdb"),
  database: "default",
}

const store = Effect.gen(function* () {
  const ch = yield* makeClickHouse(config)
  yield* applyMigrations(ch, path.join(repoRoot, "db"))
  const sink = yield* EventSink.pipe(
    Effect.provide(ClickHouseSinkLive.pipe(Layer.provide(Layer.succeed(ClickHouse, ch)))),
  )
  return { ch, sink, rebuild: makeMetricsRebuild(ch) }
})

const at = (iso: string) => Date.parse(iso)

describe("rebuild-metrics on the embedded engine", () => {
  it.scoped(
    "replaces a corrupted range across a month boundary with raw_events FINAL, and nothing else",
    () =>
      Effect.gen(function* () {
        const { ch, sink, rebuild } = yield* store
        // 20 minutes around the October/November boundary; resends of 1 in 5.
        const events = makeEvents("b1", 400, at("2026-10-31T23:50:00Z"), 3_000)
        yield* ingest(sink, events)
        yield* ingest(
          sink,
          events.filter((_, i) => i % 5 === 0),
        )
        const from = at("2026-10-31T23:55:30Z")
        const to = at("2026-11-01T00:05:00Z")
        const minutes = { fromMs: at("2026-10-31T23:55:00Z"), toMs: to }
        expect(yield* metrics(ch)).toEqual(truth(events))

        // Corruption inside the range (extra states, a missing minute) and outside it.
        yield* bogusStates(ch, "2026-10-31 23:58:00", 7)
        yield* bogusStates(ch, "2026-11-01 00:01:00", 3, "Partner")
        yield* deleteMetrics(ch, "time_window = toDateTime('2026-11-01 00:03:00', 'UTC')")
        yield* bogusStates(ch, "2026-10-31 23:52:00", 5)
        const outside = `NOT (${sqlWindow(minutes.fromMs, minutes.toMs)})`
        const outsideBefore = yield* metrics(ch, outside)
        expect(yield* metrics(ch, sqlWindow(minutes.fromMs, minutes.toMs))).not.toEqual(
          truth(events, between(minutes.fromMs, minutes.toMs)),
        )

        const summary = yield* rebuild.rebuild({ fromMs: from, toMs: to })
        expect(summary.minutes).toEqual(minutes)
        expect(summary.partitions).toEqual(["202610", "202611"])
        const inRange = events.filter((e) => between(minutes.fromMs, minutes.toMs)(Date.parse(e.event_time)))
        expect(summary.raw.events).toBe(inRange.length)
        expect(summary.after?.events).toBe(inRange.length)
        expect(summary.before.events).toBe(inRange.length + 7 + 3 - 20)

        expect(yield* metrics(ch, sqlWindow(minutes.fromMs, minutes.toMs))).toEqual(
          truth(events, between(minutes.fromMs, minutes.toMs)),
        )
        // Outside the range nothing moved, not even the bogus minute (a rebuild touches its range only).
        expect(yield* metrics(ch, outside)).toEqual(outsideBefore)
        expect(yield* stagingTables(ch)).toEqual([])

        // Idempotent: a second rebuild changes nothing.
        const all = yield* metrics(ch)
        yield* rebuild.rebuild({ fromMs: from, toMs: to })
        expect(yield* metrics(ch)).toEqual(all)
      }),
  )

  it.scoped("keeps what is written to the same month while it rebuilds (writes racing the swap)", () =>
    Effect.gen(function* () {
      const { ch, sink, rebuild } = yield* store
      const start = at("2026-11-10T08:00:00Z")
      const events = makeEvents("b2", 300, start, 2_000)
      yield* ingest(sink, events)
      yield* bogusStates(ch, "2026-11-10 08:03:00", 4)
      const range = { fromMs: start, toMs: start + 6 * MINUTE }
      // Between snapshot and swap: a late event inside the range and "live" events elsewhere
      // in November. The swap replaces the parts they landed in; the catch-up brings them back.
      const late = makeEvents("b2-late", 30, start + 2 * MINUTE, 1_000)
      const live = makeEvents("b2-live", 40, at("2026-11-24T12:00:00Z"), 1_000)
      const summary = yield* rebuild.rebuild(range, {
        beforeSwap: Effect.zipRight(ingest(sink, late), ingest(sink, live)),
      })
      expect(summary.caughtUp).toBeGreaterThanOrEqual(late.length + live.length)
      const everything = [...events, ...late, ...live]
      expect(yield* metrics(ch, "toYYYYMMDD(time_window) IN (20261110, 20261124)")).toEqual(truth(everything))
    }),
  )

  it.scoped("drops a month whose minutes are all in the range and have no raw event", () =>
    Effect.gen(function* () {
      const { ch, sink, rebuild } = yield* store
      const events = makeEvents("b3", 60, at("2026-11-30T23:59:00Z"), 1_000)
      yield* ingest(sink, events)
      yield* bogusStates(ch, "2026-12-05 10:00:00", 9)
      yield* bogusStates(ch, "2026-12-31 23:59:00", 2)
      const summary = yield* rebuild.rebuild({
        fromMs: at("2026-11-30T23:59:00Z"),
        toMs: at("2027-01-01T00:00:00Z"),
      })
      expect(summary.partitions).toEqual(["202611", "202612"])
      expect(yield* metrics(ch, "toYYYYMM(time_window) = 202612")).toEqual([])
      expect(yield* metrics(ch, "toYYYYMMDD(time_window) = 20261130")).toEqual(truth(events))
    }),
  )

  it.scoped("refuses a range without raw events, and a preview, change nothing", () =>
    Effect.gen(function* () {
      const { ch, rebuild } = yield* store
      yield* bogusStates(ch, "2026-11-20 10:00:00", 3)
      const before = yield* metrics(ch)
      const refused = yield* Effect.either(
        rebuild.rebuild({ fromMs: at("2026-11-20T09:00:00Z"), toMs: at("2026-11-20T11:00:00Z") }),
      )
      expect(Either.isLeft(refused) && refused.left._tag).toBe("NothingToRebuild")
      expect(Either.isLeft(refused) && refused.left.message).toMatch(
        /raw_events has no events in \[2026-11-20T09:00:00.000Z, 2026-11-20T11:00:00.000Z\): nothing to rebuild from, nothing was changed \(metrics_minutely holds 1 group\(s\), 3 event\(s\) there/,
      )
      const preview = yield* rebuild.preview({
        fromMs: at("2026-10-31T23:00:00Z"),
        toMs: at("2026-11-01T01:00:00Z"),
      })
      expect(preview.after).toBeUndefined()
      expect(preview.raw.events).toBe(400)
      expect(yield* metrics(ch)).toEqual(before)
      expect(yield* stagingTables(ch)).toEqual([])
    }),
  )

  it.scoped("drops a staging table a killed run left behind (embedded: no other process can own it)", () =>
    Effect.gen(function* () {
      const { ch, rebuild } = yield* store
      yield* ch.command(`CREATE TABLE ${STAGING_PREFIX}killed AS metrics_minutely`)
      yield* rebuild.rebuild({ fromMs: at("2026-11-10T08:00:00Z"), toMs: at("2026-11-10T08:01:00Z") })
      expect(yield* stagingTables(ch)).toEqual([])
    }),
  )
})
