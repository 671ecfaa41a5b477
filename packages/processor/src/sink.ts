import { ClickHouse, ClickHouseError } from "@rtoa/core"
import { Context, Effect, Layer, Ref } from "effect"
import type { SinkBatch } from "./model.ts"

/**
 * Sink stage: writes one batch's raw rows and minute pre-aggregates. Both writes are idempotent
 * in effect (raw_events deduplicates on event_id; the metric states are sets), so a batch
 * written again after a crash or retry changes no metric.
 */
export interface EventSinkService {
  readonly write: (batch: SinkBatch) => Effect.Effect<void, ClickHouseError>
}

export class EventSink extends Context.Tag("rtoa/EventSink")<EventSink, EventSinkService>() {}

export const ClickHouseSinkLive: Layer.Layer<EventSink, never, ClickHouse> = Layer.effect(
  EventSink,
  Effect.map(ClickHouse, (ch) => ({
    write: (batch) =>
      ch
        .insert("raw_events", batch.rows)
        .pipe(Effect.zipRight(ch.insert("metrics_minutely_input", batch.aggregates))),
  })),
)

export interface InMemorySink {
  readonly service: EventSinkService
  readonly batches: Effect.Effect<ReadonlyArray<SinkBatch>>
}

/** Records batches; `failures` makes the first N writes fail (transient-error tests). */
export const makeInMemorySink = (
  options: { readonly failures?: number; readonly onWrite?: (batch: SinkBatch) => Effect.Effect<void> } = {},
): Effect.Effect<InMemorySink> =>
  Effect.gen(function* () {
    const batches = yield* Ref.make<ReadonlyArray<SinkBatch>>([])
    const failuresLeft = yield* Ref.make(options.failures ?? 0)
    const onWrite = options.onWrite ?? (() => Effect.void)
    return {
      service: {
        write: (batch) =>
          Effect.gen(function* () {
            const left = yield* Ref.getAndUpdate(failuresLeft, (n) => Math.max(0, n - 1))
            if (left > 0) {
              return yield* new ClickHouseError({ reason: "Unavailable", message: "injected sink failure" })
            }
            yield* onWrite(batch)
            yield* Ref.update(batches, (all) => [...all, batch])
          }),
      },
      batches: Ref.get(batches),
    }
  })
