import { adminClient, KafkaClient, type KafkaError, kafkaTry } from "@rtoa/core"
import { Context, Effect, Layer } from "effect"
import { RangeOutsideTopic } from "./errors.ts"
import type { PartitionOffsets, TopicSnapshot } from "./plan.ts"
import type { TimeRange } from "./time.ts"

/**
 * Where a time range lies in a topic: per partition the retained offsets (low, high) and the
 * offsets for FROM and TO by record timestamp (Kafka's offsets-for-times). Read-only admin calls.
 */
export interface OffsetIndexService {
  readonly snapshot: (
    topic: string,
    range: TimeRange,
  ) => Effect.Effect<TopicSnapshot, KafkaError | RangeOutsideTopic>
}

export class OffsetIndex extends Context.Tag("rtoa/reprocessor/OffsetIndex")<
  OffsetIndex,
  OffsetIndexService
>() {}

const byPartition = (rows: ReadonlyArray<{ partition: number; offset: string }>) =>
  new Map(rows.map((r) => [r.partition, BigInt(r.offset)]))

export const OffsetIndexLive: Layer.Layer<OffsetIndex, KafkaError, KafkaClient> = Layer.scoped(
  OffsetIndex,
  Effect.gen(function* () {
    const { kafka } = yield* KafkaClient
    const admin = yield* adminClient(kafka)
    return {
      snapshot: (topic, range) =>
        Effect.gen(function* () {
          const topics = yield* kafkaTry("admin.listTopics", () => admin.listTopics())
          if (!topics.includes(topic)) {
            return yield* new RangeOutsideTopic({
              reason: "UnknownTopic",
              message: `nothing to reprocess, nothing was changed: topic ${topic} does not exist (KAFKA_TOPIC)`,
            })
          }
          const bounds = yield* kafkaTry("admin.fetchTopicOffsets", () => admin.fetchTopicOffsets(topic))
          // kafkajs answers the high watermark for a partition with no record at or after the time.
          const from = byPartition(
            yield* kafkaTry("admin.fetchTopicOffsetsByTimestamp", () =>
              admin.fetchTopicOffsetsByTimestamp(topic, range.fromMs),
            ),
          )
          const to = byPartition(
            yield* kafkaTry("admin.fetchTopicOffsetsByTimestamp", () =>
              admin.fetchTopicOffsetsByTimestamp(topic, range.toMs),
            ),
          )
          const partitions = bounds.map((b): PartitionOffsets => {
            const high = BigInt(b.high)
            return {
              partition: b.partition,
              low: BigInt(b.low),
              high,
              fromOffset: from.get(b.partition) ?? high,
              toOffset: to.get(b.partition) ?? high,
            }
          })
          return { topic, partitions }
        }),
    }
  }),
)
