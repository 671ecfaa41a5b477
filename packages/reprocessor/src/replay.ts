import type { ClickHouseError, decodeMessage } from "@rtoa/core"
import {
  type DeadLetterReason,
  type DecodeResult,
  decodeRecords,
  type EventSink,
  type SourceRecord,
  writeGroups,
  writeIsolating,
} from "@rtoa/pipeline"
import { type Chunk, Clock, Duration, Effect, Schedule, Stream } from "effect"
import { Progress } from "./progress.ts"

export interface ReplaySettings {
  /** Records per write (the processor's BATCH_MAX_ROWS)... */
  readonly batchMaxRows: number
  /** ...or what arrived within this long (BATCH_MAX_WAIT_MS). */
  readonly batchMaxWait: Duration.Duration
  /** The processor's MAX_CLOCK_SKEW_MS, applied relative to each record's own timestamp. */
  readonly maxClockSkew: Duration.Duration
  /** Backoff for a failed write; when it gives up, the replay fails (a rerun is safe). */
  readonly retry: Schedule.Schedule<unknown, unknown>
  /** The processor's message decoder with the configured limits. */
  readonly decode: typeof decodeMessage
  /** Distinct partitions one INSERT may touch. */
  readonly maxPartitionsPerInsert: number
}

/** 100 ms doubling up to 5 s between attempts, for about a minute in all. */
export const defaultReplayRetry: Schedule.Schedule<unknown, unknown> = Schedule.exponential(
  "100 millis",
).pipe(Schedule.union(Schedule.spaced("5 seconds")), Schedule.upTo("60 seconds"))

/**
 * The processor's decode stage, with one difference: "now" for the future-time check is each
 * record's own Kafka timestamp (when it entered the topic, about when the live processor judged
 * it), not the time of the replay. So a replay repeats the live decision whatever day it runs:
 * an event refused as `event_time_in_future` is refused again, instead of being accepted just
 * because its time has since passed. Records without a timestamp use `fallbackNowMs`.
 */
export const decodeForReplay = (
  records: Iterable<SourceRecord>,
  maxSkewMs: number,
  fallbackNowMs: number,
  decode?: typeof decodeMessage,
): DecodeResult =>
  decodeRecords(
    records,
    (record) => (record.timestamp > 0 ? Math.min(record.timestamp, fallbackNowMs) : fallbackNowMs),
    maxSkewMs,
    decode,
  )

export interface ReplayStats {
  readonly records: number
  readonly events: number
  /** Refused records, by reason. Not republished: the live processor dead-lettered them once. */
  readonly deadLetters: Readonly<Partial<Record<DeadLetterReason, number>>>
  readonly batches: number
}

export const emptyStats: ReplayStats = { records: 0, events: 0, deadLetters: {}, batches: 0 }

export const addStats = (a: ReplayStats, b: ReplayStats): ReplayStats => {
  const deadLetters = { ...a.deadLetters }
  for (const [reason, n] of Object.entries(b.deadLetters) as Array<[DeadLetterReason, number]>)
    deadLetters[reason] = (deadLetters[reason] ?? 0) + n
  return {
    records: a.records + b.records,
    events: a.events + b.events,
    deadLetters,
    batches: a.batches + b.batches,
  }
}

export const deadLetterTotal = (stats: ReplayStats): number =>
  Object.values(stats.deadLetters).reduce((n, k) => n + (k ?? 0), 0)

/**
 * One batch through decode -> window/group -> sink, the processor's stages (rows the engine
 * refuses are isolated and counted as refused). Nothing is committed anywhere: the replay's own
 * position lives only in its reader, and the writes are idempotent.
 */
export const writeReplayBatch = (settings: ReplaySettings) => (records: Chunk.Chunk<SourceRecord>) =>
  Effect.gen(function* () {
    const now = yield* Clock.currentTimeMillis
    const { events, deadLetters } = decodeForReplay(
      records,
      Duration.toMillis(settings.maxClockSkew),
      now,
      settings.decode,
    )
    const rejected = yield* writeIsolating(writeGroups(events, settings.maxPartitionsPerInsert), settings, {
      retrying: (e) => Effect.logWarning(`sink write failed, retrying: ${e.message}`),
      succeeded: Effect.void,
    })
    const byReason: Partial<Record<DeadLetterReason, number>> = {}
    for (const l of [...deadLetters, ...rejected]) byReason[l.reason] = (byReason[l.reason] ?? 0) + 1
    return {
      records: records.length,
      events: events.length - rejected.length,
      deadLetters: byReason,
      batches: 1,
    }
  })

/** Drives a record stream through the stages in micro-batches, reporting progress per batch. */
export const replayRecords = <E>(
  records: Stream.Stream<SourceRecord, E>,
  settings: ReplaySettings,
): Effect.Effect<ReplayStats, E | ClickHouseError, EventSink | Progress> =>
  Effect.gen(function* () {
    const progress = yield* Progress
    return yield* records.pipe(
      Stream.groupedWithin(settings.batchMaxRows, settings.batchMaxWait),
      Stream.mapEffect((batch) =>
        writeReplayBatch(settings)(batch).pipe(Effect.tap((s) => progress.advance(s.records))),
      ),
      Stream.runFold(emptyStats, addStats),
    )
  })
