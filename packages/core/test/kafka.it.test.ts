import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { Partitioners } from "kafkajs"
import { ensureTopics, kafkaTry, makeKafka } from "../src/kafka.ts"
import { brokers, uniqueName } from "./support/it.ts"

describe("local Kafka broker", () => {
  it.scoped("creates a topic idempotently and round-trips messages in order with keys", () =>
    Effect.gen(function* () {
      const topic = uniqueName("rt-topic")
      const kafka = makeKafka({
        brokers: brokers.split(","),
        clientId: "rtoa-test",
        topic,
        dlqTopic: `${topic}-dlq`,
        groupId: uniqueName("rt-group"),
        partitions: 1,
      })
      yield* ensureTopics(kafka, [{ topic, partitions: 1 }])
      yield* ensureTopics(kafka, [{ topic, partitions: 1 }])

      const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner })
      yield* Effect.acquireRelease(
        kafkaTry("connect", () => producer.connect()),
        () => Effect.promise(() => producer.disconnect()),
      )
      const sent = Array.from({ length: 50 }, (_, i) => ({ key: `k${i % 5}`, value: `v${i}` }))
      yield* kafkaTry("send", () => producer.send({ topic, messages: sent, acks: -1 }))

      const consumer = kafka.consumer({ groupId: uniqueName("rt-group") })
      yield* Effect.acquireRelease(
        kafkaTry("connect", () => consumer.connect()),
        () => Effect.promise(() => consumer.disconnect()),
      )
      yield* kafkaTry("subscribe", () => consumer.subscribe({ topic, fromBeginning: true }))
      const received = yield* Effect.async<ReadonlyArray<{ key: string; value: string }>>((resume) => {
        const got: Array<{ key: string; value: string }> = []
        void consumer.run({
          eachMessage: async ({ message }) => {
            got.push({ key: message.key?.toString() ?? "", value: message.value?.toString() ?? "" })
            if (got.length === sent.length) resume(Effect.succeed(got))
          },
        })
      }).pipe(Effect.timeout("60 seconds"))
      expect(received).toEqual(sent)
    }),
  )
})
