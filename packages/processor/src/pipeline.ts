import type { DeadLetterLimits, decodeMessage } from "@rtoa/core"
import type { DeadLetter, DecodedEvent, SourceRecord } from "@rtoa/pipeline"
import {
  DeadLetterLimitExceeded,
  decodeRecords,
  EventSource,
  lagByPartition,
  makeDeadLetterPolicy,
  offsetRanges,
  offsetsToCommit,
  partitionBounds,
  type WriteGroup,
  writeGroups,
  writeIsolating,
} from "@rtoa/pipeline"
import { type Chunk, Clock, Duration, Effect, Schedule, Stream } from "effect"
import { DeadLetterSink } from "./dead-letters.ts"
import { Health } from "./health.ts"
import { Metrics } from "./metrics.ts"

export interface PipelineSettings {
  /** A micro-batch closes at this many records... */
  readonly batchMaxRows: number
  /** ...or this long after it opened, whichever comes first. */
  readonly batchMaxWait: Duration.Duration
  /** Events further ahead of the processor clock than this are dead-lettered. */
  readonly maxClockSkew: Duration.Duration
  /** Backoff for failed writes; the batch is retried until it lands (offsets stay uncommitted). */
  readonly retry: Schedule.Schedule<unknown, unknown>
  /** The message decoder with the configured limits (core's makeMessageDecoder). */
  readonly decode: typeof decodeMessage
  /** Distinct partitions one INSERT may touch. */
  readonly maxPartitionsPerInsert: number
  /** When refusing records means something upstream is broken. */
  readonly deadLetterLimits: DeadLetterLimits
}

/** Exponential backoff from 100 ms, capped at 5 s between attempts, forever. */
export const defaultRetry: Schedule.Schedule<unknown, unknown> = Schedule.exponential("100 millis").pipe(
  Schedule.union(Schedule.spaced("5 seconds")),
)

/** A micro-batch decoded and grouped, ready for the sinks. */
export interface PreparedBatch {
  readonly records: Chunk.Chunk<SourceRecord>
  readonly events: ReadonlyArray<DecodedEvent>
  readonly refused: ReadonlyArray<DeadLetter>
  /** The events as INSERTs within the partition limit (usually one). */
  readonly groups: ReadonlyArray<WriteGroup>
}

/** Decode and window/group stages: pure CPU work on the batch. */
export const prepareBatch = (settings: PipelineSettings) => (records: Chunk.Chunk<SourceRecord>) =>
  Effect.map(Clock.currentTimeMillis, (now): PreparedBatch => {
    const { events, deadLetters: refused } = decodeRecords(
      records,
      now,
      Duration.toMillis(settings.maxClockSkew),
      settings.decode,
    )
    return { records, events, refused, groups: writeGroups(events, settings.maxPartitionsPerInsert) }
  })

/**
 * Sink (rows the engine refuses become dead letters) -> dead letters -> commit for one prepared
 * batch. The commit happens only after both acknowledged; a failing write is retried with backoff
 * while the offsets stay where they were, so nothing is lost and a crash replays at most the
 * batches not yet committed. Before anything is dead-lettered the policy may stop the processor.
 */
export const writeBatch =
  (settings: PipelineSettings, policy = makeDeadLetterPolicy(settings.deadLetterLimits), member = "0") =>
  ({ records, events, refused, groups }: PreparedBatch) =>
    Effect.gen(function* () {
      const source = yield* EventSource
      const deadLetters = yield* DeadLetterSink
      const metrics = yield* Metrics
      const health = yield* Health
      const retrying = (what: string) => (e: { readonly message: string }) =>
        Effect.zipRight(
          health.backingOff(member, `${what}: ${e.message.trim().slice(0, 300)}`),
          Effect.logWarning(`${what} failed, retrying: ${e.message}`),
        )

      const insertStart = yield* Clock.currentTimeMillis
      const rejected = yield* writeIsolating(groups, settings, {
        retrying: (e) =>
          Effect.zipRight(
            Effect.sync(() => {
              metrics.sinkFailures += 1
            }),
            retrying("ClickHouse write")(e),
          ),
        succeeded: health.recovered(member),
      })
      const letters = rejected.length === 0 ? refused : [...refused, ...rejected]
      const breach = policy.check(records, letters)
      if (breach !== undefined) return yield* new DeadLetterLimitExceeded({ message: breach })
      yield* deadLetters
        .publish(letters)
        .pipe(
          Effect.tapError(retrying("dead-letter publish")),
          Effect.retry(settings.retry),
          Effect.zipLeft(health.recovered(member)),
        )
      const acked = yield* Clock.currentTimeMillis

      // A failed commit is not fatal: the next batch's commit covers these offsets, and a replay
      // after a crash or rebalance rewrites rows that are already there (idempotent writes).
      const bounds = partitionBounds(records)
      yield* source.commit(offsetsToCommit(bounds)).pipe(
        Effect.zipRight(health.committed),
        Effect.catchAll((e) =>
          Effect.zipRight(
            Effect.sync(() => {
              metrics.commitFailures += 1
            }),
            Effect.logWarning(`offset commit failed (covered by the next commit): ${e.message}`),
          ),
        ),
      )

      const rejectedRecords = new Set(rejected.map((l) => l.record))
      const written = rejected.length === 0 ? events : events.filter((e) => !rejectedRecords.has(e.record))
      const latencies = written.map((e) => Math.max(0, acked - e.record.timestamp) / 1_000)
      let newestEventTime: number | undefined
      for (const e of written)
        if (!(e.event.event_time <= (newestEventTime ?? -1))) newestEventTime = e.event.event_time
      metrics.recordBatch({
        consumed: records.length,
        written: written.length,
        deadLetters: letters.map((l) => l.reason),
        latenciesSeconds: latencies,
        lag: lagByPartition(bounds),
        lastTimestamps: new Map(Array.from(bounds.values(), ({ high }) => [high.partition, high.timestamp])),
        ...(newestEventTime === undefined ? {} : { newestEventTime }),
      })
      yield* Effect.annotateCurrentSpan({
        "batch.records": records.length,
        "batch.events": written.length,
        "batch.dead_letters": letters.length,
        "batch.rejected_by_clickhouse": rejected.length,
        "batch.inserts": groups.length,
        "batch.minute_groups": groups.reduce((n, g) => n + g.batch.aggregates.length, 0),
        "batch.offsets": offsetRanges(bounds),
        "batch.insert_ms": acked - insertStart,
        "batch.max_end_to_end_ms": Math.round(latencies.reduce((m, l) => Math.max(m, l), 0) * 1_000),
      })
    }).pipe(Effect.withSpan("processor.batch"))

/** One micro-batch through every stage. */
export const processBatch =
  (settings: PipelineSettings, policy = makeDeadLetterPolicy(settings.deadLetterLimits), member = "0") =>
  (records: Chunk.Chunk<SourceRecord>) =>
    Effect.flatMap(prepareBatch(settings)(records), writeBatch(settings, policy, member))

/**
 * The processor: records from the source, cut into micro-batches by size or time, each prepared,
 * written and committed in order (one batch at a time keeps commits ordered per partition). Ends
 * when the source ends (after `drain`), having flushed the last partial batch; fails when the
 * dead-letter policy trips or a write fails for good (schema). The next batch is decoded and
 * grouped while this one's insert runs in the engine (one prepared batch ahead; writes, dead
 * letters and commits stay in order): backlog drain +9%, +9%, +18% in three alternating pairs on
 * the 2-core bench box (one member, where the box had idle CPU).
 */
export const runPipeline = (settings: PipelineSettings, member = "0") =>
  Effect.gen(function* () {
    const source = yield* EventSource
    const policy = makeDeadLetterPolicy(settings.deadLetterLimits)
    yield* source.records.pipe(
      Stream.groupedWithin(settings.batchMaxRows, settings.batchMaxWait),
      Stream.mapEffect(prepareBatch(settings)),
      // The next batch is decoded while this one's insert is in the engine (one batch ahead).
      Stream.buffer({ capacity: 1 }),
      Stream.mapEffect(writeBatch(settings, policy, member)),
      Stream.runDrain,
    )
  })
