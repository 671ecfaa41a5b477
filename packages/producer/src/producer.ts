import type { KafkaError, ProducerConfig } from "@rtoa/core"
import { Clock, Data, Duration, Effect, Exit, FiberSet, Ref, Schedule } from "effect"
import { checkGeneratorOptions, type GeneratedMessage, makeGenerator } from "./generator.ts"
import { makePacer } from "./pacer.ts"
import {
  type Counts,
  formatProgress,
  formatSummary,
  noCounts,
  type ProducerSummary,
  progressText,
  stdoutTerminal,
  summaryText,
  type Terminal,
} from "./report.ts"
import { MessageSink } from "./sink.ts"
import { noTruthLog, openTruthLog, type TruthFileError } from "./truth.ts"

/**
 * The producer loop: each tick, claim the messages due from the pacer, generate them, and send
 * them as one batch. At most `maxInFlight` batches are in flight; when all slots are busy the loop
 * waits, the pacer's backlog grows to its cap and the excess is skipped and reported, so nothing
 * queues without bound and the printed rate is what the broker acknowledged.
 */

// Compression belongs to the sink (main.ts builds it from the same settings), not to the loop.
export interface ProducerOptions extends Omit<ProducerConfig, "compression"> {
  /** Share of valid events sent a few seconds late. */
  readonly lateRatio: number
  /** JSON Lines ground-truth file (see truth.ts), or undefined for none. */
  readonly truthFile: string | undefined
  /** Default 10 ms. */
  readonly tick?: Duration.DurationInput
  /** Largest batch per send (keeps requests under the broker's size limit). Default 2000. */
  readonly maxBatch?: number
  /** Default 4. */
  readonly maxInFlight?: number
  /** How long one batch is retried before the run fails. Default 2 minutes. */
  readonly retryFor?: Duration.DurationInput
  /** How long in-flight sends may take to finish at shutdown. Default 15 s. */
  readonly shutdownTimeout?: Duration.DurationInput
  /** event_id prefix; default derived from the seed and the start time, so reruns never collide. */
  readonly idPrefix?: string
  /** Default: stdout. */
  readonly terminal?: Terminal
}

export class ProducerOptionsError extends Data.TaggedError("ProducerOptionsError")<{
  readonly message: string
}> {}

export type ProducerError = ProducerOptionsError | KafkaError | TruthFileError

const positiveInt = (v: number | undefined) => v === undefined || (Number.isSafeInteger(v) && v > 0)

export const checkProducerOptions = (o: ProducerOptions): string | undefined => {
  if (!positiveInt(o.rate)) return "rate must be a positive integer (messages per second)"
  if (!positiveInt(o.total)) return "total must be a positive integer"
  if (!positiveInt(o.maxBatch)) return "maxBatch must be a positive integer"
  if (!positiveInt(o.maxInFlight)) return "maxInFlight must be a positive integer"
  return checkGeneratorOptions(o)
}

const countBatch = (c: Counts, batch: ReadonlyArray<GeneratedMessage>): Counts => {
  let { valid, duplicates, malformed } = c
  for (const m of batch) {
    if (m.kind === "valid") valid++
    else if (m.kind === "duplicate") duplicates++
    else malformed++
  }
  return { ...c, sent: c.sent + batch.length, valid, duplicates, malformed }
}

/**
 * Runs until `total` messages are acknowledged, or until interrupted (Ctrl-C): then the in-flight
 * sends finish (within shutdownTimeout), the truth file is flushed and the summary is printed.
 */
export const runProducer = (
  options: ProducerOptions,
): Effect.Effect<ProducerSummary, ProducerError, MessageSink> =>
  Effect.gen(function* () {
    const problem = checkProducerOptions(options)
    if (problem !== undefined) return yield* new ProducerOptionsError({ message: problem })
    const sink = yield* MessageSink
    const terminal = options.terminal ?? stdoutTerminal()
    const maxBatch = options.maxBatch ?? 2_000
    const maxInFlight = options.maxInFlight ?? 4
    const shutdownTimeout = Duration.decode(options.shutdownTimeout ?? "15 seconds")
    const retry = Schedule.exponential("200 millis").pipe(
      Schedule.either(Schedule.spaced("5 seconds")),
      Schedule.upTo(options.retryFor ?? "2 minutes"),
    )
    const startMs = yield* Clock.currentTimeMillis
    const generator = makeGenerator({
      ...options,
      idPrefix: options.idPrefix ?? `p${options.seed.toString(36)}-${startMs.toString(36)}`,
    })
    const pacer = yield* makePacer({ rate: options.rate, ...(options.tick ? { tick: options.tick } : {}) })
    const counts = yield* Ref.make(noCounts)
    const inFlight = yield* Ref.make(0)
    const result = yield* Ref.make<ProducerSummary | undefined>(undefined)

    const summarize = (outcome: ProducerSummary["outcome"]) =>
      Effect.gen(function* () {
        const c = yield* Ref.get(counts)
        const { skipped } = yield* pacer.stats
        const elapsedMs = Duration.toMillis(yield* pacer.elapsed)
        const achievedRate = elapsedMs > 0 ? (c.sent * 1000) / elapsedMs : 0
        return {
          ...c,
          outcome,
          skipped,
          elapsedMs,
          achievedRate,
          targetRate: options.rate,
        } satisfies ProducerSummary
      })

    const progress = Effect.gen(function* () {
      let last = { sent: 0, ms: 0 }
      for (;;) {
        // Sleep to the next whole second since the start, so a slow event loop does not drift the lines.
        const now = Duration.toMillis(yield* pacer.elapsed)
        yield* Effect.sleep(Duration.millis(Math.floor(now / 1000) * 1000 + 1000 - now))
        const c = yield* Ref.get(counts)
        const ms = Duration.toMillis(yield* pacer.elapsed)
        const line = formatProgress({
          counts: c,
          elapsedMs: ms,
          currentRate: ms > last.ms ? ((c.sent - last.sent) * 1000) / (ms - last.ms) : 0,
          targetRate: options.rate,
          inFlight: yield* Ref.get(inFlight),
          skipped: (yield* pacer.stats).skipped,
        })
        yield* Effect.sync(() => terminal.write(progressText(terminal, line)))
        last = { sent: c.sent, ms }
      }
    })

    const run = Effect.gen(function* () {
      const truth = options.truthFile === undefined ? noTruthLog : yield* openTruthLog(options.truthFile)
      const sends = yield* FiberSet.make<void, KafkaError | TruthFileError>()
      // Registered after the FiberSet, so it runs before the set interrupts what is left.
      // Finalizers run uninterruptibly; the wait must be interruptible for the timeout to cut it.
      yield* Effect.addFinalizer(() =>
        Effect.interruptible(FiberSet.awaitEmpty(sends)).pipe(
          Effect.timeoutFail({ duration: shutdownTimeout, onTimeout: () => "timeout" as const }),
          Effect.catchAll(() =>
            Effect.logWarning(`in-flight sends did not finish within ${Duration.format(shutdownTimeout)}`),
          ),
        ),
      )
      yield* Effect.forkScoped(progress)
      const slots = yield* Effect.makeSemaphore(maxInFlight)

      const acknowledge = (batch: ReadonlyArray<GeneratedMessage>) =>
        Effect.zipRight(
          Ref.update(counts, (c) => countBatch(c, batch)),
          truth.record(batch, true),
        )
      const abandon = (batch: ReadonlyArray<GeneratedMessage>) =>
        Effect.zipRight(
          Ref.update(counts, (c) => ({ ...c, unacked: c.unacked + batch.length })),
          truth.record(batch, false),
        ).pipe(Effect.ignore)

      // Only the send itself can be interrupted (shutdown timeout): once the broker has acknowledged a
      // batch it is always counted and logged; a batch cut off or out of retries is logged as unacked.
      const send = (batch: ReadonlyArray<GeneratedMessage>) =>
        Effect.uninterruptibleMask((restore) =>
          restore(
            sink.send(batch).pipe(
              Effect.tapError((e) =>
                Effect.logWarning(
                  `sending ${batch.length} messages failed (${e.message}); retrying the batch`,
                ),
              ),
              Effect.retry(retry),
            ),
          ).pipe(
            Effect.onError(() => abandon(batch)),
            Effect.zipRight(acknowledge(batch)),
          ),
        ).pipe(
          Effect.ensuring(
            Effect.zipRight(
              slots.release(1),
              Ref.update(inFlight, (n) => n - 1),
            ),
          ),
        )

      const loop = Effect.gen(function* () {
        let produced = 0
        for (;;) {
          const room = options.total === undefined ? maxBatch : Math.min(maxBatch, options.total - produced)
          if (room <= 0) return
          yield* slots.take(1)
          const due = yield* pacer.take(room)
          const batch = generator.take(due, yield* Clock.currentTimeMillis)
          produced += due
          yield* Ref.update(inFlight, (n) => n + 1)
          yield* FiberSet.run(sends, send(batch))
        }
      })

      // The loop ends when `total` is reached; a send that finally fails ends the run instead.
      yield* loop.pipe(Effect.zipRight(FiberSet.awaitEmpty(sends)), Effect.raceFirst(FiberSet.join(sends)))
    })

    yield* Effect.scoped(run).pipe(
      Effect.onExit((exit) =>
        Effect.gen(function* () {
          const outcome = Exit.isSuccess(exit) ? "completed" : Exit.isInterrupted(exit) ? "stopped" : "failed"
          const summary = yield* summarize(outcome)
          yield* Ref.set(result, summary)
          yield* Effect.sync(() => terminal.write(summaryText(terminal, formatSummary(summary))))
        }),
      ),
    )
    const summary = yield* Ref.get(result)
    return summary ?? (yield* summarize("completed"))
  })
