import {
  closeQuietly,
  compressionType,
  ensureAppTopics,
  KafkaClient,
  type KafkaCompression,
  KafkaError,
  kafkaTry,
  producerOptions,
} from "@rtoa/core"
import { Context, Duration, Effect, Layer } from "effect"
import { Partitioners } from "kafkajs"
import type { GeneratedMessage } from "./generator.ts"

/**
 * Where produced messages go. Kafka in production; an in-memory sink lets the producer loop
 * (pacing, backpressure, truth log, shutdown) be tested without a broker.
 */
export interface MessageSinkService {
  /** Sends one batch; succeeds only once the broker has acknowledged every message in it. */
  readonly send: (messages: ReadonlyArray<GeneratedMessage>) => Effect.Effect<void, KafkaError>
  /** Where the messages go, for the progress line. */
  readonly destination: string
}

export class MessageSink extends Context.Tag("rtoa/producer/MessageSink")<
  MessageSink,
  MessageSinkService
>() {}

const startupTimeout = Duration.seconds(60)

export interface KafkaSinkOptions {
  /** Codec of every batch sent (PRODUCER_COMPRESSION / --compression). Default none. */
  readonly compression?: KafkaCompression
}

const kafkaSink = (options: KafkaSinkOptions) =>
  Effect.gen(function* () {
    const { kafka, config } = yield* KafkaClient
    const producer = yield* Effect.acquireRelease(
      Effect.gen(function* () {
        yield* ensureAppTopics
        // A failed send is retried whole by the producer's loop (producerOptions says why).
        const p = kafka.producer({
          ...producerOptions(config),
          // kafkajs 2's default (Java-compatible murmur2); naming it also silences its warning.
          createPartitioner: Partitioners.DefaultPartitioner,
        })
        yield* kafkaTry("producer.connect", () => p.connect())
        return p
      }).pipe(
        Effect.timeoutFail({
          duration: startupTimeout,
          onTimeout: () =>
            new KafkaError({
              operation: "producer.connect",
              message: `no answer from ${config.brokers.join(",")} within ${Duration.format(startupTimeout)}`,
            }),
        }),
      ),
      (p) => closeQuietly("the event producer", () => p.disconnect()),
    )
    const topic = config.topic
    const codec = options.compression ?? "none"
    const compression = compressionType(codec)
    return {
      destination: `${topic} @ ${config.brokers.join(",")}${codec === "none" ? "" : ` (${codec})`}`,
      send: (messages: ReadonlyArray<GeneratedMessage>) =>
        kafkaTry("producer.send", () =>
          producer.send({
            topic,
            acks: -1,
            compression,
            messages: messages.map((m) => ({
              key: m.key,
              value: m.value,
              ...(m.headers === undefined ? {} : { headers: { ...m.headers } }),
            })),
          }),
        ).pipe(Effect.asVoid),
    } satisfies MessageSinkService
  })

/**
 * Creates the app topics if missing, then connects a kafkajs producer for the layer's lifetime.
 * acks=-1 (all in-sync replicas) and no auto-creation: a wrong topic name fails loudly instead of
 * quietly creating a one-partition topic. Disconnecting on release waits for in-flight requests.
 */
export const KafkaSinkLive = (
  options: KafkaSinkOptions = {},
): Layer.Layer<MessageSink, KafkaError, KafkaClient> => Layer.scoped(MessageSink, kafkaSink(options))

export interface MemorySinkOptions {
  /** Simulated acknowledgement latency per batch. */
  readonly latency?: Duration.DurationInput
  /** Fail this many sends before accepting any, to exercise retries. */
  readonly failFirst?: number
}

export interface MemorySink {
  readonly layer: Layer.Layer<MessageSink>
  /** Everything acknowledged so far, in acknowledgement order. */
  readonly sent: () => ReadonlyArray<GeneratedMessage>
  /** Batches sent so far (including failed attempts). */
  readonly attempts: () => number
  /** The most sends that were ever in flight at once. */
  readonly maxConcurrent: () => number
}

/** An in-memory sink (tests, dry runs). Latency uses the Clock, so it follows TestClock. */
export const makeMemorySink = (options: MemorySinkOptions = {}): MemorySink => {
  const sent: Array<GeneratedMessage> = []
  let attempts = 0
  let current = 0
  let peak = 0
  const send = (messages: ReadonlyArray<GeneratedMessage>) =>
    Effect.gen(function* () {
      attempts += 1
      current += 1
      peak = Math.max(peak, current)
      if (options.latency !== undefined) yield* Effect.sleep(options.latency)
      if (attempts <= (options.failFirst ?? 0)) {
        return yield* new KafkaError({ operation: "producer.send", message: `simulated failure ${attempts}` })
      }
      for (const m of messages) sent.push(m)
    }).pipe(Effect.ensuring(Effect.sync(() => (current -= 1))))
  return {
    layer: Layer.succeed(MessageSink, { send, destination: "memory" }),
    sent: () => sent,
    attempts: () => attempts,
    maxConcurrent: () => peak,
  }
}
