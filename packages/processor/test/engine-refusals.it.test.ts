import * as path from "node:path"
import { describe, expect, it } from "@effect/vitest"
import { applyMigrations, ClickHouse, type ClickHouseConfig, makeClickHouse } from "@rtoa/core"
import { repoRoot, tempDir } from "@rtoa/core/test/support/it.ts"
import {
  ClickHouseSinkLive,
  processBatch,
  runPipeline,
  sourceRecord,
  writeGroups,
  writeIsolating,
} from "@rtoa/pipeline"
import { Chunk, Duration, Effect, Exit, Fiber, Layer, Schedule } from "effect"
import { inspectEngine } from "../src/startup.ts"
import { eventJson, inMemoryStages, pipelineDefaults } from "./fixtures.ts"

// The in-memory source and dead letters around the REAL ClickHouse sink and engine: how the
// pipeline handles what the engine itself refuses. One embedded engine per process (file).
const config: ClickHouseConfig = {
  _tag: "Embedded",
  dataPath: path.join(tempDir("refusals"), "chdb"),
  database: "default",
}
const clickhouse = Layer.scoped(ClickHouse, makeClickHouse(config))
const T = Date.now() - 60_000
const settings = {
  batchMaxRows: 100,
  batchMaxWait: Duration.millis(50),
  maxClockSkew: Duration.minutes(5),
  retry: Schedule.spaced("50 millis").pipe(Schedule.upTo("2 seconds")),
  ...pipelineDefaults,
}

describe("what the engine refuses (real ClickHouse sink)", () => {
  it.scopedLive(
    "rows a table constraint refuses are isolated and dead-lettered; the rest of the batch is written",
    () =>
      Effect.gen(function* () {
        const stages = yield* inMemoryStages()
        const ch = yield* ClickHouse
        yield* applyMigrations(ch, path.join(repoRoot, "db"))
        yield* ch.command("ALTER TABLE raw_events ADD CONSTRAINT no_poison CHECK user_id != 'poison'")
        const records = Array.from({ length: 40 }, (_, i) =>
          sourceRecord(
            0,
            i,
            eventJson(i, {
              event_id: `c-${i}`,
              event_time: T + i,
              user_id: i % 13 === 5 ? "poison" : `u-${i}`,
            }),
          ),
        )
        yield* processBatch(settings)(Chunk.fromIterable(records)).pipe(
          Effect.provide(
            Layer.merge(stages.layer, ClickHouseSinkLive.pipe(Layer.provide(Layer.succeed(ClickHouse, ch)))),
          ),
        )
        const letters = yield* stages.deadLetters.letters
        expect(letters.map((l) => l.record.offset)).toEqual(["5", "18", "31"])
        expect(letters.every((l) => l.reason === "rejected_by_clickhouse")).toBe(true)
        expect(letters[0]?.detail).toMatch(/^code 469: .*no_poison/s)
        const [stored] = yield* ch.query<{ n: string }>(
          "SELECT count() AS n FROM raw_events FINAL WHERE event_id LIKE 'c-%'",
        )
        expect(Number(stored?.n)).toBe(37)
        const [counted] = yield* ch.query<{ n: string }>(
          "SELECT uniqExactMerge(event_count_state) AS n FROM metrics_minutely WHERE time_window >= toStartOfMinute(fromUnixTimestamp64Milli({t:Int64}))",
          { t: T },
        )
        expect(Number(counted?.n)).toBeGreaterThanOrEqual(37)
        expect(yield* stages.source.commits).toEqual([[{ topic: "events", partition: 0, offset: "40" }]])
        yield* ch.command("ALTER TABLE raw_events DROP CONSTRAINT no_poison")
      }).pipe(Effect.provide(clickhouse)),
  )

  it.scopedLive(
    "a lone surrogate that reached the engine is refused by code (25) and isolated, not retried forever",
    () =>
      Effect.gen(function* () {
        const ch = yield* ClickHouse
        // Events as if the decode stage had let a lone surrogate through.
        const event = (id: string, offset: number, channel: string) => ({
          event: {
            event_id: id,
            user_id: "u",
            event_type: "t",
            dimension_channel: channel,
            event_source: "s",
            event_time: T,
          },
          record: sourceRecord(0, offset, null),
        })
        const letters = yield* writeIsolating(
          writeGroups(
            [event("s-good", 1, "Web"), event("s-bad", 2, "\ud800"), event("s-good2", 3, "Web")],
            100,
          ),
          settings,
          { retrying: () => Effect.void, succeeded: Effect.void },
        ).pipe(Effect.provide(ClickHouseSinkLive.pipe(Layer.provide(Layer.succeed(ClickHouse, ch)))))
        expect(letters.map((l) => [l.record.offset, l.reason])).toEqual([["2", "rejected_by_clickhouse"]])
        expect(letters[0]?.detail).toMatch(/^code 25: .*surrogate/s)
        const stored = yield* ch.query<{ event_id: string }>(
          "SELECT event_id FROM raw_events FINAL WHERE event_id LIKE 's-%' ORDER BY event_id",
        )
        expect(stored.map((r) => r.event_id)).toEqual(["s-good", "s-good2"])
      }).pipe(Effect.provide(clickhouse)),
  )

  it.scopedLive(
    "the start-up check reads the engine version, the partition limit and no hazard on our schema",
    () =>
      Effect.gen(function* () {
        const ch = yield* ClickHouse
        yield* applyMigrations(ch, path.join(repoRoot, "db"))
        const report = yield* inspectEngine(ch)
        expect(report.version).toMatch(/^\d+\.\d+\./)
        expect(report.maxPartitionsPerInsert).toBe(100)
        expect(report.warnings).toEqual([])
      }).pipe(Effect.provide(clickhouse)),
  )

  it.scopedLive(
    "a table dropped under a running pipeline is a fatal schema error, not an endless retry",
    () =>
      Effect.gen(function* () {
        const stages = yield* inMemoryStages()
        const ch = yield* ClickHouse
        yield* ch.command("DROP TABLE IF EXISTS metrics_minutely_mv")
        yield* ch.command("DROP TABLE IF EXISTS metrics_minutely_input")
        const fiber = yield* Effect.fork(
          runPipeline(settings).pipe(
            Effect.provide(
              Layer.merge(
                stages.layer,
                ClickHouseSinkLive.pipe(Layer.provide(Layer.succeed(ClickHouse, ch))),
              ),
            ),
          ),
        )
        yield* stages.source.push([sourceRecord(0, 0, eventJson(1, { event_time: T }))])
        const exit = yield* Fiber.await(fiber).pipe(Effect.timeout("20 seconds"))
        expect(Exit.isFailure(exit)).toBe(true)
        if (Exit.isFailure(exit)) expect(String(exit.cause)).toMatch(/UNKNOWN_TABLE|does not exist/)
        expect(yield* stages.source.commits).toEqual([])
        expect(stages.metrics.sinkFailures).toBe(0)
        yield* applyMigrations(ch, path.join(repoRoot, "db")).pipe(Effect.ignore)
      }).pipe(Effect.provide(clickhouse)),
  )
})
