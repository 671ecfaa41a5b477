import { KafkaClient, type ReadRecord, readTopic, safePreview } from "@rtoa/core"
import type { DeadLetterEntry } from "@rtoa/dashboard"
import type { DeadLetter } from "@rtoa/pipeline"
import { Clock, Context, Effect, Layer, PubSub, type Queue, Ref, type Scope } from "effect"

/**
 * The latest dead letters for the console: what the dead-letter sink published (with a safe,
 * escaped preview of the payload), seeded at start-up from the tail of the dead-letter topic so
 * a restarted processor still shows them. New ones are also published for the live page.
 */
export interface DeadLetterLogService {
  readonly record: (letters: ReadonlyArray<DeadLetter>) => Effect.Effect<void>
  readonly latest: (limit: number) => Effect.Effect<ReadonlyArray<DeadLetterEntry>>
  readonly subscribe: Effect.Effect<Queue.Dequeue<DeadLetterEntry>, never, Scope.Scope>
}

export class DeadLetterLog extends Context.Tag("rtoa/DeadLetterLog")<DeadLetterLog, DeadLetterLogService>() {}

const KEEP = 200

const entryOf = (letter: DeadLetter, atMs: number): DeadLetterEntry => ({
  at: Math.floor(atMs / 1_000),
  reason: letter.reason,
  detail: letter.detail.slice(0, 1_000),
  topic: letter.record.topic,
  partition: letter.record.partition,
  offset: letter.record.offset,
  size: letter.record.value?.length ?? 0,
  preview: safePreview(letter.record.value),
})

/** A dead-letter record read back from the topic, as an entry. */
const entryOfRecord = (r: ReadRecord): DeadLetterEntry => ({
  at: Math.floor(r.timestamp / 1_000),
  reason: r.headers["dlq.reason"] ?? "?",
  detail: r.headers["dlq.detail"] ?? "",
  topic: r.headers["dlq.source.topic"] ?? "?",
  partition: Number(r.headers["dlq.source.partition"] ?? -1),
  offset: r.headers["dlq.source.offset"] ?? "?",
  size: Number(r.headers["dlq.payload.size"] ?? r.value?.length ?? 0),
  preview: safePreview(r.value),
})

export const makeDeadLetterLog = Effect.gen(function* () {
  const entries = yield* Ref.make<ReadonlyArray<DeadLetterEntry>>([])
  const hub = yield* PubSub.sliding<DeadLetterEntry>(KEEP)
  const add = (fresh: ReadonlyArray<DeadLetterEntry>) =>
    Ref.update(entries, (all) => [...all, ...fresh].slice(-KEEP))
  const service: DeadLetterLogService = {
    record: (letters) =>
      letters.length === 0
        ? Effect.void
        : Effect.flatMap(Clock.currentTimeMillis, (now) => {
            const fresh = letters.slice(-KEEP).map((l) => entryOf(l, now))
            return Effect.zipRight(add(fresh), PubSub.publishAll(hub, fresh))
          }),
    latest: (limit) => Effect.map(Ref.get(entries), (all) => all.slice(-limit).reverse()),
    subscribe: PubSub.subscribe(hub),
  }
  return { service, seed: add }
})

/** The log, seeded in the background from the dead-letter topic's last records. */
export const DeadLetterLogLive: Layer.Layer<DeadLetterLog, never, KafkaClient> = Layer.scoped(
  DeadLetterLog,
  Effect.gen(function* () {
    const { service, seed } = yield* makeDeadLetterLog
    const { kafka, config } = yield* KafkaClient
    yield* readTopic(kafka, config.dlqTopic, { fromEnd: 50, timeout: "15 seconds" }).pipe(
      Effect.flatMap((records) => seed(records.map(entryOfRecord))),
      Effect.catchAll((e) => Effect.logInfo(`dead-letter history not loaded: ${e.message}`)),
      Effect.forkScoped,
    )
    return service
  }),
)

/** A log without history (unit tests). */
export const DeadLetterLogTest: Layer.Layer<DeadLetterLog> = Layer.effect(
  DeadLetterLog,
  Effect.map(makeDeadLetterLog, (l) => l.service),
)
