import { describe, expect, it } from "@effect/vitest"
import { KafkaClientLive } from "@rtoa/core"
import { type CompressedCodec, spyOnCodec } from "@rtoa/core/test/support/codec-spy.ts"
import { testConfig, uniqueName } from "@rtoa/core/test/support/it.ts"
import { consoleConsume } from "@rtoa/core/test/support/kafka-tools.ts"
import { Effect, Layer } from "effect"
import { makeGenerator } from "../src/generator.ts"
import { KafkaSinkLive, MessageSink } from "../src/sink.ts"

/**
 * What the producer's Kafka sink writes in each codec, read back by another client: Kafka's own
 * Java console consumer. The broker also decompresses each batch to validate it on the way in.
 */

const count = 200

describe("the producer's Kafka sink, compressed", () => {
  for (const codec of ["gzip", "snappy", "lz4", "zstd"] satisfies ReadonlyArray<CompressedCodec>) {
    it.scoped(`writes ${codec} batches that Kafka's console consumer reads intact and in order`, () =>
      Effect.gen(function* () {
        const topic = uniqueName(`sink-${codec}`)
        const messages = makeGenerator({
          seed: 7,
          users: 50,
          duplicateRatio: 0.05,
          malformedRatio: 0,
          idPrefix: topic,
        }).take(count, Date.now())
        const calls = yield* spyOnCodec(codec)
        yield* Effect.gen(function* () {
          const sink = yield* MessageSink
          yield* sink.send(messages.slice(0, count / 2))
          yield* sink.send(messages.slice(count / 2))
        }).pipe(
          Effect.provide(KafkaSinkLive({ compression: codec }).pipe(Layer.provide(KafkaClientLive))),
          Effect.provide(
            testConfig({ KAFKA_TOPIC: topic, KAFKA_DLQ_TOPIC: `${topic}-dlq`, KAFKA_TOPIC_PARTITIONS: "1" }),
          ),
        )
        // One compressed batch per send: the records really travelled in this codec.
        expect(calls.compressed).toBe(2)
        const read = yield* consoleConsume(topic, count)
        expect(read).toEqual(messages.map((m) => ({ key: m.key ?? "null", value: m.value })))
      }),
    )
  }
})
