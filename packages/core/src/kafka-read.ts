import { Duration, Effect } from "effect"
import type { IHeaders, Kafka } from "kafkajs"
import { closeQuietly } from "./close-quietly.ts"
import { KafkaError } from "./errors.ts"
import { adminClient, kafkaTry } from "./kafka.ts"

/** One record as read back (tools and tests: `make dlq`, the hostile-input suite). */
export interface ReadRecord {
  readonly partition: number
  readonly offset: string
  readonly timestamp: number
  readonly key: Buffer | null
  readonly value: Buffer | null
  readonly headers: Readonly<Record<string, string>>
}

const headerText = (headers: IHeaders | undefined): Record<string, string> => {
  const out: Record<string, string> = {}
  for (const [k, v] of Object.entries(headers ?? {})) {
    const first = Array.isArray(v) ? v[0] : v
    out[k] = first === undefined ? "" : Buffer.isBuffer(first) ? first.toString("utf8") : String(first)
  }
  return out
}

/**
 * Reads a topic from the offset `fromEnd` records before each partition's end (all of it by
 * default) up to the end as it was when called, with a throwaway consumer group that commits
 * nothing. Fails after `timeout` if the records do not all arrive.
 */
export const readTopic = (
  kafka: Kafka,
  topic: string,
  options: { readonly fromEnd?: number; readonly timeout?: Duration.DurationInput } = {},
): Effect.Effect<ReadonlyArray<ReadRecord>, KafkaError> =>
  Effect.scoped(
    Effect.gen(function* () {
      const admin = yield* adminClient(kafka)
      const offsets = yield* kafkaTry("admin.fetchTopicOffsets", () => admin.fetchTopicOffsets(topic))
      const want = new Map(
        offsets.map((p) => {
          const high = Number(p.high)
          const low = Math.max(Number(p.low), options.fromEnd === undefined ? 0 : high - options.fromEnd)
          return [p.partition, { low, high }] as const
        }),
      )
      const total = [...want.values()].reduce((n, p) => n + Math.max(0, p.high - p.low), 0)
      if (total === 0) return []
      const consumer = kafka.consumer({ groupId: `rtoa-read-${topic}-${process.pid}-${Date.now()}` })
      yield* Effect.acquireRelease(
        kafkaTry("consumer.connect", () => consumer.connect()),
        () => closeQuietly("the topic reader's consumer", () => consumer.disconnect()),
      )
      yield* kafkaTry("consumer.subscribe", () => consumer.subscribe({ topic, fromBeginning: true }))
      const records: Array<ReadRecord> = []
      yield* Effect.async<void, KafkaError>((resume) => {
        let seen = 0
        void consumer
          .run({
            autoCommit: false,
            eachBatch: async ({ batch }) => {
              const range = want.get(batch.partition)
              for (const m of batch.messages) {
                const offset = Number(m.offset)
                if (range === undefined || offset < range.low || offset >= range.high) continue
                records.push({
                  partition: batch.partition,
                  offset: m.offset,
                  timestamp: Number(m.timestamp),
                  key: m.key,
                  value: m.value,
                  headers: headerText(m.headers),
                })
                seen += 1
              }
              if (seen >= total) resume(Effect.void)
            },
          })
          .catch((e: unknown) =>
            resume(Effect.fail(new KafkaError({ operation: "consumer.run", message: String(e) }))),
          )
        // Partitions start at their low offset: seek there once assigned.
        for (const [partition, { low }] of want) consumer.seek({ topic, partition, offset: String(low) })
      }).pipe(
        Effect.timeoutFail({
          duration: options.timeout ?? Duration.seconds(60),
          onTimeout: () =>
            new KafkaError({
              operation: "read",
              message: `read ${records.length} of ${total} records of ${topic}`,
            }),
        }),
      )
      return records.sort((a, b) => a.partition - b.partition || Number(a.offset) - Number(b.offset))
    }),
  )
