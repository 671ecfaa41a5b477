import {
  type DeadLetterCounts,
  DeadLetterSink,
  makeCountingDeadLetters,
  noCommitSource,
  PipelineObserver,
  type PipelineSettings,
  pipelineSettingsConfig,
  runBatches,
  type SourceRecord,
  silentObserver,
} from "@rtoa/pipeline"
import { Config, Effect, Ref, Schedule, type Stream } from "effect"
import { Progress } from "./progress.ts"

/** 100 ms doubling up to 5 s between attempts, for about a minute in all. */
const defaultReplayRetry: Schedule.Schedule<unknown, unknown> = Schedule.exponential("100 millis").pipe(
  Schedule.union(Schedule.spaced("5 seconds")),
  Schedule.upTo("60 seconds"),
)

/**
 * The processor's settings as a replay uses them: the future-time check against each record's own
 * timestamp (it repeats the live decision), a write retried for about a minute and then the replay
 * fails (a rerun is safe), and no dead-letter limit (the live processor applied it already).
 */
export const forReplay = (settings: PipelineSettings): PipelineSettings => ({
  ...settings,
  futureAgainst: "record-timestamp",
  retry: defaultReplayRetry,
  deadLetterLimits: { ...settings.deadLetterLimits, maxRatio: 1, maxConsecutive: 0 },
})

/** The processor's batching, skew and decode settings, from the same variables. */
export const replaySettingsConfig: Config.Config<PipelineSettings> = Config.map(
  pipelineSettingsConfig,
  forReplay,
)

export interface ReplayStats {
  readonly records: number
  readonly events: number
  /** Refused records, by reason. Not republished: the live processor dead-lettered them once. */
  readonly deadLetters: DeadLetterCounts
  readonly batches: number
}

export const deadLetterTotal = (stats: ReplayStats): number =>
  Object.values(stats.deadLetters).reduce((n, k) => n + (k ?? 0), 0)

/**
 * The processor's pipeline over a record stream: a source that commits nothing (the replay's
 * position lives only in its reader, and the writes are idempotent), a dead-letter sink that
 * counts instead of publishing, and progress reported per batch.
 */
export const replayRecords = <E>(records: Stream.Stream<SourceRecord, E>, settings: PipelineSettings) =>
  Effect.gen(function* () {
    const progress = yield* Progress
    const source = noCommitSource(records)
    const refused = yield* makeCountingDeadLetters
    const totals = yield* Ref.make({ records: 0, events: 0, batches: 0 })
    yield* runBatches(source, settings).pipe(
      Effect.provideService(DeadLetterSink, refused.service),
      Effect.provideService(PipelineObserver, {
        ...silentObserver,
        batchWritten: ({ records, written }) =>
          Ref.update(totals, (t) => ({
            records: t.records + records.length,
            events: t.events + written.length,
            batches: t.batches + 1,
          })).pipe(Effect.zipRight(progress.advance(records.length))),
      }),
    )
    return { ...(yield* Ref.get(totals)), deadLetters: yield* refused.counts } satisfies ReplayStats
  })
