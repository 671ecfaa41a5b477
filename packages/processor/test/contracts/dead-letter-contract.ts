import { describe, expect, it } from "@effect/vitest"
import type { KafkaError } from "@rtoa/core"
import { type DeadLetter, type DeadLetterSinkService, sourceRecord } from "@rtoa/pipeline"
import { Effect, type Scope } from "effect"

/**
 * The DeadLetterSink contract, run on the in-memory dead letters (unit project) and on the Kafka
 * dead-letter sink against the real broker (integration project):
 *   idempotence        a topic appends: the same letter published twice is two records. What makes
 *                      a repeat harmless is that every record names its source position (topic,
 *                      partition, offset) and reason, so a reader tells a repeat from a new letter;
 *                      a repeat adds no position the first publish did not.
 *   failure reporting  with the broker unreachable, publishing fails as a KafkaError (which the
 *                      pipeline retries), neither a defect nor a silent loss.
 */
export interface PublishedLetter {
  /** "topic:partition:offset" of the refused record. */
  readonly position: string
  readonly reason: string
  readonly value: string | null
}

export interface DeadLetterUnderTest {
  readonly service: DeadLetterSinkService
  /** Every record on the dead-letter topic (or in memory), in publish order. */
  readonly published: Effect.Effect<ReadonlyArray<PublishedLetter>>
}

export interface DeadLetterHarness {
  readonly make: Effect.Effect<DeadLetterUnderTest, never, Scope.Scope>
  /** A dead-letter sink whose broker cannot be reached, publishing `letters`. */
  readonly publishUnreachable: (
    letters: ReadonlyArray<DeadLetter>,
  ) => Effect.Effect<void, KafkaError, Scope.Scope>
}

const letter = (partition: number, offset: number): DeadLetter => ({
  record: sourceRecord(partition, offset, `{"bad":${offset}}`, { topic: "contract-events" }),
  reason: "invalid",
  detail: "event_id: must not be empty",
})

export const deadLetterContract = (name: string, harness: DeadLetterHarness, timeout?: number) =>
  describe(`DeadLetterSink contract: ${name}`, () => {
    it.scopedLive(
      "the same letters published twice are recognisable as repeats by their source position",
      () =>
        Effect.gen(function* () {
          const dlq = yield* harness.make
          const letters = [letter(0, 3), letter(0, 7), letter(2, 7)]
          yield* dlq.service.publish(letters)
          const once = yield* dlq.published
          expect(once).toEqual([
            { position: "contract-events:0:3", reason: "invalid", value: '{"bad":3}' },
            { position: "contract-events:0:7", reason: "invalid", value: '{"bad":7}' },
            { position: "contract-events:2:7", reason: "invalid", value: '{"bad":7}' },
          ])
          yield* dlq.service.publish(letters)
          const twice = yield* dlq.published
          expect(twice).toEqual([...once, ...once])
          expect(new Set(twice.map((l) => l.position))).toEqual(new Set(once.map((l) => l.position)))
        }),
      timeout,
    )

    it.scopedLive(
      "with the broker unreachable, publishing fails as a KafkaError",
      () =>
        Effect.gen(function* () {
          const exit = yield* Effect.exit(harness.publishUnreachable([letter(0, 1)]))
          expect(exit._tag).toBe("Failure")
          if (exit._tag === "Failure") {
            expect(exit.cause._tag).toBe("Fail")
            if (exit.cause._tag === "Fail") expect(exit.cause.error).toMatchObject({ _tag: "KafkaError" })
          }
        }),
      timeout,
    )
  })
