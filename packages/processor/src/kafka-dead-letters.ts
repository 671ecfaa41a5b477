import { createHash } from "node:crypto"
import {
  adminClient,
  closeQuietly,
  DeadLetterLimitsConfig,
  KafkaClient,
  type KafkaError,
  kafkaTry,
  producerOptions,
} from "@rtoa/core"
import { type DeadLetter, DeadLetterSink } from "@rtoa/pipeline"
import { Config, Effect, Layer } from "effect"
import kafkajs, { type IHeaders, type Message, Partitioners } from "kafkajs"
import { DeadLetterLog, DeadLetterLogLive } from "./dead-letter-log.ts"

/**
 * The live dead-letter sink: refused records go to the dead-letter topic with the reason and their
 * source position in headers, so an operator can inspect, fix and replay them. Payloads go byte
 * for byte up to a size limit; a larger one is truncated, with its original size and SHA-256 in
 * headers. `layer(settings)`, or `layerConfig()` to read them from the environment.
 */
export interface DeadLetterSinkSettings {
  /** Larger payloads are truncated to this many bytes. */
  readonly maxPayloadBytes: number
}

const deadLetterHeaders = (letter: DeadLetter): IHeaders => ({
  "dlq.reason": letter.reason,
  "dlq.detail": letter.detail.slice(0, 1_000),
  "dlq.source.topic": letter.record.topic,
  "dlq.source.partition": String(letter.record.partition),
  "dlq.source.offset": letter.record.offset,
  "dlq.source.timestamp": String(letter.record.timestamp),
})

/** The dead-letter record for `letter`, its payload cut to `maxPayloadBytes` when larger. */
export const deadLetterMessage = (letter: DeadLetter, maxPayloadBytes: number): Message => {
  const { key, value } = letter.record
  const headers = deadLetterHeaders(letter)
  if (value === null || value.length <= maxPayloadBytes) return { key, value, headers }
  return {
    key: key !== null && key.length > maxPayloadBytes ? key.subarray(0, maxPayloadBytes) : key,
    value: value.subarray(0, maxPayloadBytes),
    headers: {
      ...headers,
      "dlq.payload.truncated": "true",
      "dlq.payload.size": String(value.length),
      "dlq.payload.sha256": createHash("sha256").update(value).digest("hex"),
    },
  }
}

// Record-batch overhead per record (offset/timestamp deltas, lengths, attributes), generously.
const RECORD_OVERHEAD = 64

const messageBytes = (m: Message): number => {
  let n = RECORD_OVERHEAD + (m.key?.length ?? 0) + (m.value === null ? 0 : Buffer.byteLength(m.value))
  for (const [k, v] of Object.entries(m.headers ?? {}))
    n += k.length + (typeof v === "string" ? Buffer.byteLength(v) : Buffer.isBuffer(v) ? v.length : 64)
  return n
}

/** Splits messages into sends of at most `maxBytes` each (one oversize message goes alone). */
export const chunkBySize = (messages: ReadonlyArray<Message>, maxBytes: number): Array<Array<Message>> => {
  const chunks: Array<Array<Message>> = []
  let current: Array<Message> = []
  let size = 0
  for (const m of messages) {
    const n = messageBytes(m)
    if (current.length > 0 && size + n > maxBytes) {
      chunks.push(current)
      current = []
      size = 0
    }
    current.push(m)
    size += n
  }
  if (current.length > 0) chunks.push(current)
  return chunks
}

/** The topic's `max.message.bytes` (a record batch's limit), or the broker default if unreadable. */
const topicMaxMessageBytes = (topic: string) =>
  Effect.gen(function* () {
    const { kafka } = yield* KafkaClient
    const admin = yield* adminClient(kafka)
    const described = yield* kafkaTry("admin.describeConfigs", () =>
      admin.describeConfigs({
        resources: [
          { type: kafkajs.ConfigResourceTypes.TOPIC, name: topic, configNames: ["max.message.bytes"] },
        ],
        includeSynonyms: false,
      }),
    )
    const value = described.resources[0]?.configEntries.find((e) => e.configName === "max.message.bytes")
    return Number(value?.configValue ?? Number.NaN)
  }).pipe(
    Effect.scoped,
    Effect.map((n) => (Number.isFinite(n) && n > 0 ? n : 1_048_588)),
    Effect.orElseSucceed(() => 1_048_588),
  )

/** The Kafka dead-letter sink, with the log of the latest letters for the console (also provided). */
export const layer = (
  settings: DeadLetterSinkSettings,
): Layer.Layer<DeadLetterSink | DeadLetterLog, KafkaError, KafkaClient> =>
  Layer.scoped(
    DeadLetterSink,
    Effect.gen(function* () {
      const { kafka, config } = yield* KafkaClient
      const log = yield* DeadLetterLog
      // Half the topic's batch limit per send leaves room for framing; payloads are cut below it.
      const maxSendBytes = Math.floor((yield* topicMaxMessageBytes(config.dlqTopic)) / 2)
      const maxPayloadBytes = Math.min(settings.maxPayloadBytes, Math.floor(maxSendBytes / 2))
      // A failed send fails the batch's write, which the pipeline retries whole (producerOptions).
      const producer = kafka.producer({
        ...producerOptions(config),
        createPartitioner: Partitioners.DefaultPartitioner,
      })
      yield* Effect.acquireRelease(
        kafkaTry("dlq.connect", () => producer.connect()),
        () => closeQuietly("the dead-letter producer", () => producer.disconnect()),
      )
      return {
        publish: (letters) =>
          Effect.forEach(
            chunkBySize(
              letters.map((l) => deadLetterMessage(l, maxPayloadBytes)),
              maxSendBytes,
            ),
            (messages) =>
              kafkaTry("dlq.send", () => producer.send({ topic: config.dlqTopic, acks: -1, messages })),
            { discard: true },
          ).pipe(Effect.zipRight(log.record(letters))),
      }
    }),
  ).pipe(Layer.provideMerge(DeadLetterLogLive))

/** DLQ_MAX_PAYLOAD_BYTES, from core's DeadLetterLimitsConfig. */
export const settingsConfig: Config.Config<DeadLetterSinkSettings> = Config.map(
  DeadLetterLimitsConfig,
  ({ maxPayloadBytes }) => ({ maxPayloadBytes }),
)

export const layerConfig = (config: Config.Config.Wrap<DeadLetterSinkSettings> = settingsConfig) =>
  Layer.unwrapEffect(Effect.map(Config.unwrap(config), layer))
