import { KafkaError } from "@rtoa/core"
import { Context, Effect, Ref } from "effect"
import type { DeadLetter, DeadLetterReason } from "./model.ts"

/**
 * Dead-letter stage: where refused records go. The processor's live layer publishes them to the
 * dead-letter topic (its kafka-dead-letters.ts); the in-memory one keeps them for tests; the
 * counting one counts them by reason (a replay: the live processor dead-lettered them once).
 */
export interface DeadLetterSinkService {
  readonly publish: (letters: ReadonlyArray<DeadLetter>) => Effect.Effect<void, KafkaError>
}

export class DeadLetterSink extends Context.Tag("rtoa/DeadLetterSink")<
  DeadLetterSink,
  DeadLetterSinkService
>() {}

export interface InMemoryDeadLetters {
  readonly service: DeadLetterSinkService
  readonly letters: Effect.Effect<ReadonlyArray<DeadLetter>>
  /** While unreachable, every publish fails with a KafkaError, as with the broker away. */
  readonly setReachable: (reachable: boolean) => Effect.Effect<void>
}

export const makeInMemoryDeadLetters: Effect.Effect<InMemoryDeadLetters> = Effect.gen(function* () {
  const ref = yield* Ref.make<ReadonlyArray<DeadLetter>>([])
  const reachable = yield* Ref.make(true)
  const unreachable = new KafkaError({ operation: "dlq.send", message: "broker unreachable (in-memory)" })
  return {
    service: {
      publish: (letters) =>
        Effect.flatMap(Ref.get(reachable), (up) =>
          up ? Ref.update(ref, (all) => [...all, ...letters]) : Effect.fail(unreachable),
        ),
    },
    letters: Ref.get(ref),
    setReachable: (up) => Ref.set(reachable, up),
  }
})

export type DeadLetterCounts = Readonly<Partial<Record<DeadLetterReason, number>>>

export interface CountingDeadLetters {
  readonly service: DeadLetterSinkService
  readonly counts: Effect.Effect<DeadLetterCounts>
}

export const makeCountingDeadLetters: Effect.Effect<CountingDeadLetters> = Effect.map(
  Ref.make<DeadLetterCounts>({}),
  (ref) => ({
    service: {
      publish: (letters) =>
        Ref.update(ref, (counts) => {
          const next = { ...counts }
          for (const l of letters) next[l.reason] = (next[l.reason] ?? 0) + 1
          return next
        }),
    },
    counts: Ref.get(ref),
  }),
)
