import { ClickHouse, ClickHouseError } from "@rtoa/core"
import { Context, Effect, Fiber, Layer, Ref } from "effect"
import { MinuteCounts, MinuteCountsLive } from "./minute-counts.ts"
import type { RawEventRow, SinkBatch } from "./model.ts"

/**
 * Sink stage: writes one batch's raw rows and minute pre-aggregates. Both writes are idempotent
 * in effect (raw_events deduplicates on event_id; the metric states are sets), so a batch
 * written again after a crash or retry changes no metric.
 */
export interface EventSinkService {
  readonly write: (batch: SinkBatch) => Effect.Effect<void, ClickHouseError>
  /**
   * Optional overlap of `write`: succeeds once the rows are in, with an effect that waits for the
   * aggregates, started after the rows landed (never before: a refused row must leave no state).
   * The pipeline awaits it while the next batch's rows go in, keeping two engine sessions busy.
   * If either part fails the caller writes the batch again with `write` (idempotent).
   */
  readonly writeRowsFirst?: (
    batch: SinkBatch,
  ) => Effect.Effect<Effect.Effect<void, ClickHouseError>, ClickHouseError>
}

/** `writeRowsFirst` where the sink has it, else `write` with nothing left to wait for. */
export const writeRowsFirst = (sink: EventSinkService, batch: SinkBatch) =>
  sink.writeRowsFirst?.(batch) ?? Effect.as(sink.write(batch), Effect.void)

export class EventSink extends Context.Tag("rtoa/EventSink")<EventSink, EventSinkService>() {}

/**
 * The ClickHouse sink, with the counts refresher the minutes of every acknowledged batch go to
 * (also provided, for the console's data version).
 */
export const ClickHouseSinkLive: Layer.Layer<EventSink | MinuteCounts, never, ClickHouse> = Layer.scoped(
  EventSink,
  Effect.gen(function* () {
    const ch = yield* ClickHouse
    const counts = yield* MinuteCounts
    const scope = yield* Effect.scope
    const writeAggregates = (batch: SinkBatch) =>
      Effect.zipRight(ch.insert("metrics_minutely_input", batch.aggregates), counts.touched(minutesOf(batch)))
    return {
      write: (batch) => Effect.zipRight(ch.insert("raw_events", batch.rows), writeAggregates(batch)),
      // Forked in the sink's scope, uninterruptible: if the pipeline stops before awaiting it, the
      // sink's release waits for this one insert (an engine session is never closed under a running
      // statement); its offsets are uncommitted, so a replay writes the same states again.
      writeRowsFirst: (batch) =>
        ch
          .insert("raw_events", batch.rows)
          .pipe(
            Effect.zipRight(Effect.forkIn(Effect.uninterruptible(writeAggregates(batch)), scope)),
            Effect.map(Fiber.join),
          ),
    }
  }),
).pipe(Layer.provideMerge(MinuteCountsLive))

const minutesOf = (batch: SinkBatch): ReadonlySet<number> =>
  new Set(batch.aggregates.map((a) => Date.parse(`${a.time_window.replace(" ", "T")}Z`)))

export interface InMemorySink {
  readonly service: EventSinkService
  readonly batches: Effect.Effect<ReadonlyArray<SinkBatch>>
}

export interface InMemorySinkOptions {
  /** The first N writes fail as if the server were down (transient-error tests)... */
  readonly failures?: number
  /** ...or for this reason instead (e.g. Schema: a dropped table). */
  readonly failure?: ClickHouseError["reason"]
  /** A write holding a row this matches fails whole, as the engine refuses an INSERT (data errors). */
  readonly rejects?: (row: RawEventRow) => boolean
  readonly onWrite?: (batch: SinkBatch) => Effect.Effect<void>
}

/** Records the batches written. */
export const makeInMemorySink = (options: InMemorySinkOptions = {}): Effect.Effect<InMemorySink> =>
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
              return yield* new ClickHouseError({
                reason: options.failure ?? "Unavailable",
                message: "injected sink failure",
              })
            }
            const refused = options.rejects === undefined ? undefined : batch.rows.find(options.rejects)
            if (refused !== undefined) {
              return yield* new ClickHouseError({
                reason: "Rejected",
                code: 469,
                message: `injected refusal of ${refused.event_id}`,
              })
            }
            yield* onWrite(batch)
            yield* Ref.update(batches, (all) => [...all, batch])
          }),
      },
      batches: Ref.get(batches),
    }
  })
