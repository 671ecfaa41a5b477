import { KafkaClient } from "@rtoa/core"
import { Clock, Console, Effect, Either, Ref } from "effect"
import { RangeOutsideTopic } from "./errors.ts"
import { OffsetIndex } from "./offset-index.ts"
import { outsideMessage, planReplay, type ReplayPlan, retentionSuspects, retentionWarnings } from "./plan.ts"
import { formatCount, Progress } from "./progress.ts"
import { type ReplayStats, replayRecords, replaySettingsConfig } from "./replay.ts"
import { peekTimestamps, ReplayReader } from "./replay-reader.ts"
import { formatPlan, formatSummary } from "./report.ts"
import type { TimeRange } from "./time.ts"

export interface ReprocessResult {
  readonly plan: ReplayPlan
  readonly warnings: ReadonlyArray<string>
  /** Undefined for a dry run (and when the plan reads nothing). */
  readonly stats: ReplayStats | undefined
  readonly elapsedMs: number
}

/**
 * Where [from, to) lies in the configured topic, per partition. Fails (having changed nothing)
 * when the range holds none of the topic's records: before its retention, after its end.
 */
const planReprocess = (range: TimeRange) =>
  Effect.gen(function* () {
    const { config } = yield* KafkaClient
    const index = yield* OffsetIndex
    const snapshot = yield* index.snapshot(config.topic, range)
    const verdict = planReplay(snapshot, range)
    if (Either.isLeft(verdict)) {
      const stamps = yield* peekTimestamps(config.topic, verdict.left.peek)
      return yield* new RangeOutsideTopic({
        reason: verdict.left.reason,
        message: outsideMessage(verdict.left, config.topic, range, stamps),
      })
    }
    const plan = verdict.right
    const warnings = retentionWarnings(range, yield* peekTimestamps(config.topic, retentionSuspects(plan)))
    return { plan, warnings }
  })

const elapsedSince = (started: number) => Effect.map(Clock.currentTimeMillis, (now) => now - started)

const resultSince = (
  started: number,
  fields: Pick<ReprocessResult, "plan" | "warnings" | "stats">,
): Effect.Effect<ReprocessResult> =>
  Effect.map(elapsedSince(started), (elapsedMs) => ({ ...fields, elapsedMs }))

/** `rtoa reprocess --dry-run`: the plan per partition and the totals; reads no record, writes nothing. */
export const reprocessDryRun = (range: TimeRange) =>
  Effect.gen(function* () {
    const started = yield* Clock.currentTimeMillis
    const { plan, warnings } = yield* planReprocess(range)
    yield* Console.log(formatPlan(plan, true))
    for (const w of warnings) yield* Console.error(w)
    yield* Console.log("dry run: nothing was read or written")
    return yield* resultSince(started, { plan, warnings, stats: undefined })
  })

/**
 * `rtoa reprocess`: replays the records of [from, to) through the processor's pipeline
 * (@rtoa/pipeline, replay.ts) with a consumer of its own. The live processor's group is never touched and nothing is committed;
 * writes are idempotent, so running it twice, or next to the live processor, changes no metric.
 */
export const reprocess = (range: TimeRange) =>
  Effect.gen(function* () {
    const started = yield* Clock.currentTimeMillis
    const { plan, warnings } = yield* planReprocess(range)
    yield* Console.log(formatPlan(plan, false))
    for (const w of warnings) yield* Console.error(w)
    if (plan.total === 0) {
      yield* Console.log("reprocess: no records in the range, nothing to do")
      return yield* resultSince(started, { plan, warnings, stats: undefined })
    }
    const settings = yield* replaySettingsConfig
    const reader = yield* ReplayReader
    const progress = yield* Progress
    yield* progress.start(plan.total)
    const replayStarted = yield* Clock.currentTimeMillis
    // Counted apart from the progress display, to say how far an interrupted replay got.
    const written = yield* Ref.make(0)
    const counting = {
      ...progress,
      advance: (n: number) => Ref.update(written, (w) => w + n).pipe(Effect.zipRight(progress.advance(n))),
    }
    const stats = yield* replayRecords(reader.read(plan.topic, plan.partitions), settings).pipe(
      Effect.provideService(Progress, counting),
      Effect.onInterrupt(() =>
        Effect.flatMap(Ref.get(written), (n) =>
          Console.error(
            `\nreprocess: interrupted after ${formatCount(n)} of ${formatCount(plan.total)} records; what was written stays (idempotent), run the same command again to finish`,
          ),
        ),
      ),
    )
    yield* progress.finish
    yield* Console.log(formatSummary(stats, yield* elapsedSince(replayStarted)))
    return yield* resultSince(started, { plan, warnings, stats })
  })
