import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import type { Kafka } from "kafkajs"
import { ensureTopics, kafkaTry, makeKafka } from "../src/kafka.ts"
import { type CompressedCodec, spyOnCodec } from "./support/codec-spy.ts"
import { brokers, uniqueName } from "./support/it.ts"
import { consoleProduce } from "./support/kafka-tools.ts"

/**
 * Batches compressed by another client (Kafka's own Java producer) in every codec, read by a
 * kafkajs consumer built like the processor's (makeKafka). Without the codecs registered by
 * kafka.ts, snappy, lz4 and zstd fail here with KafkaJSNotImplemented.
 */

const count = 200

const lines = (codec: string) =>
  Array.from({ length: count }, (_, i) =>
    JSON.stringify({ event_id: `${codec}-${i}`, user_id: `u-${i % 17}`, note: "x".repeat(i % 40) }),
  )

const kafkaFor = (topic: string) =>
  makeKafka({
    brokers: brokers.split(","),
    clientId: "rtoa-codecs-test",
    topic,
    dlqTopic: `${topic}-dlq`,
    groupId: uniqueName("codecs-group"),
    partitions: 1,
  })

/** Every value of the (one-partition) topic from the beginning, in offset order. */
const readValues = (kafka: Kafka, topic: string, expected: number) =>
  Effect.gen(function* () {
    const consumer = kafka.consumer({ groupId: uniqueName("codecs-group") })
    yield* Effect.acquireRelease(
      kafkaTry("connect", () => consumer.connect()),
      () => Effect.promise(() => consumer.disconnect()),
    )
    yield* kafkaTry("subscribe", () => consumer.subscribe({ topic, fromBeginning: true }))
    // A batch kafkajs cannot decompress crashes the consumer: surface that as the test's failure.
    return yield* Effect.async<ReadonlyArray<string>, Error>((resume) => {
      const got: Array<string> = []
      consumer.on(consumer.events.CRASH, (event) => resume(Effect.fail(event.payload.error)))
      void consumer.run({
        eachMessage: async ({ message }) => {
          got.push(message.value?.toString() ?? "")
          if (got.length === expected) resume(Effect.succeed(got))
        },
      })
    }).pipe(Effect.timeout("60 seconds"))
  })

describe("compressed batches from Kafka's Java producer", () => {
  for (const codec of ["gzip", "snappy", "lz4", "zstd"] satisfies ReadonlyArray<CompressedCodec>) {
    it.scoped(`kafkajs reads ${codec} batches intact and in order`, () =>
      Effect.gen(function* () {
        const topic = uniqueName(`codec-${codec}`)
        const kafka = kafkaFor(topic)
        yield* ensureTopics(kafka, [{ topic, partitions: 1 }])
        const sent = lines(codec)
        yield* consoleProduce(topic, sent, codec)
        const calls = yield* spyOnCodec(codec)
        expect(yield* readValues(kafka, topic, sent.length)).toEqual(sent)
        expect(calls.decompressed).toBeGreaterThan(0)
      }),
    )
  }
})
