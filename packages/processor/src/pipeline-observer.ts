import { lagByPartition, PipelineObserver, type WrittenBatch } from "@rtoa/pipeline"
import { Effect, Layer } from "effect"
import { Health } from "./health.ts"
import { type BatchOutcome, Metrics } from "./metrics.ts"

/** A written batch as the processor's metrics count it. */
const batchOutcome = ({ records, written, deadLetters, ackedAt, bounds }: WrittenBatch): BatchOutcome => {
  // One pass over the events: each one's latency and the newest event time.
  const latenciesSeconds = new Array<number>(written.length)
  let newestEventTime: number | undefined
  let i = 0
  for (const e of written) {
    latenciesSeconds[i++] = Math.max(0, ackedAt - e.record.timestamp) / 1_000
    if (!(e.event.event_time <= (newestEventTime ?? -1))) newestEventTime = e.event.event_time
  }
  return {
    consumed: records.length,
    written: written.length,
    deadLetters: deadLetters.map((l) => l.reason),
    latenciesSeconds,
    lag: lagByPartition(bounds),
    lastTimestamps: new Map(Array.from(bounds.values(), ({ high }) => [high.partition, high.timestamp])),
    ...(newestEventTime === undefined ? {} : { newestEventTime }),
  }
}

/** The pipeline's reports into the processor's metrics (/metrics, the console) and health. */
export const PipelineObserverLive: Layer.Layer<PipelineObserver, never, Metrics | Health> = Layer.effect(
  PipelineObserver,
  Effect.gen(function* () {
    const metrics = yield* Metrics
    const health = yield* Health
    return {
      backingOff: health.backingOff,
      recovered: health.recovered,
      sinkFailed: Effect.sync(() => {
        metrics.sinkFailures += 1
      }),
      committed: health.committed,
      commitFailed: Effect.sync(() => {
        metrics.commitFailures += 1
      }),
      batchWritten: (batch) => Effect.sync(() => metrics.recordBatch(batchOutcome(batch))),
    }
  }),
)
