import { KafkaClient, type KafkaError, kafkaTry } from "@rtoa/core"
import { Context, Effect, Layer, Ref } from "effect"
import { type IHeaders, Partitioners } from "kafkajs"
import type { DeadLetter } from "./model.ts"

/**
 * Dead-letter stage: refused records go to the dead-letter topic byte for byte, with the reason
 * and their source position in headers, so an operator can inspect, fix and replay them.
 */
export interface DeadLetterSinkService {
  readonly publish: (letters: ReadonlyArray<DeadLetter>) => Effect.Effect<void, KafkaError>
}

export class DeadLetterSink extends Context.Tag("rtoa/DeadLetterSink")<
  DeadLetterSink,
  DeadLetterSinkService
>() {}

export const deadLetterHeaders = (letter: DeadLetter): IHeaders => ({
  "dlq.reason": letter.reason,
  "dlq.detail": letter.detail.slice(0, 1_000),
  "dlq.source.topic": letter.record.topic,
  "dlq.source.partition": String(letter.record.partition),
  "dlq.source.offset": letter.record.offset,
  "dlq.source.timestamp": String(letter.record.timestamp),
})

export const KafkaDeadLetterSinkLive: Layer.Layer<DeadLetterSink, KafkaError, KafkaClient> = Layer.scoped(
  DeadLetterSink,
  Effect.gen(function* () {
    const { kafka, config } = yield* KafkaClient
    const producer = kafka.producer({
      allowAutoTopicCreation: false,
      createPartitioner: Partitioners.DefaultPartitioner,
    })
    yield* Effect.acquireRelease(
      kafkaTry("dlq.connect", () => producer.connect()),
      () => Effect.promise(() => producer.disconnect()).pipe(Effect.ignore),
    )
    return {
      publish: (letters) =>
        letters.length === 0
          ? Effect.void
          : kafkaTry("dlq.send", () =>
              producer.send({
                topic: config.dlqTopic,
                acks: -1,
                messages: letters.map((l) => ({
                  key: l.record.key,
                  value: l.record.value,
                  headers: deadLetterHeaders(l),
                })),
              }),
            ),
    }
  }),
)

export interface InMemoryDeadLetters {
  readonly service: DeadLetterSinkService
  readonly letters: Effect.Effect<ReadonlyArray<DeadLetter>>
}

export const makeInMemoryDeadLetters: Effect.Effect<InMemoryDeadLetters> = Effect.map(
  Ref.make<ReadonlyArray<DeadLetter>>([]),
  (ref) => ({
    service: { publish: (letters) => Ref.update(ref, (all) => [...all, ...letters]) },
    letters: Ref.get(ref),
  }),
)
