import { NodeSdk } from "@effect/opentelemetry"
import { describe, expect, it } from "@effect/vitest"
import { InMemorySpanExporter, SimpleSpanProcessor } from "@opentelemetry/sdk-trace-base"
import { processBatch, sourceRecord } from "@rtoa/pipeline"
import { Chunk, Duration, Effect, Schedule, TestClock } from "effect"
import { inMemoryStages, pipelineDefaults, records, T0 } from "./fixtures.ts"

describe("tracing", () => {
  it.effect("exports one span per batch with its offsets, sizes and timings", () => {
    const exporter = new InMemorySpanExporter()
    const tracing = NodeSdk.layer(() => ({
      resource: { serviceName: "rtoa-test" },
      spanProcessor: new SimpleSpanProcessor(exporter),
    }))
    return Effect.gen(function* () {
      yield* TestClock.setTime(T0)
      const stages = yield* inMemoryStages()
      const settings = {
        batchMaxRows: 10,
        batchMaxWait: Duration.millis(100),
        maxClockSkew: Duration.minutes(5),
        retry: Schedule.stop,
        ...pipelineDefaults,
      }
      const run = processBatch(settings)
      yield* run(Chunk.fromIterable(records(3, 0, 0))).pipe(Effect.provide(stages.layer))
      yield* run(Chunk.fromIterable([...records(2, 3, 0), sourceRecord(1, 0, "oops")])).pipe(
        Effect.provide(stages.layer),
      )
      const spans = exporter.getFinishedSpans().filter((s) => s.name === "processor.batch")
      expect(spans).toHaveLength(2)
      expect(spans.map((s) => s.attributes["batch.records"])).toEqual([3, 3])
      expect(spans[1]?.attributes).toMatchObject({
        "batch.events": 2,
        "batch.dead_letters": 1,
        "batch.offsets": "events:0:3-4,events:1:0-0",
      })
      expect(typeof spans[0]?.attributes["batch.insert_ms"]).toBe("number")
    }).pipe(Effect.provide(tracing))
  })
})
