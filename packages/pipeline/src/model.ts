import type { DeadLetterReason, Event, TableRow } from "@rtoa/core"

/** One Kafka record as the pipeline sees it: bytes plus where it came from. */
export interface SourceRecord {
  readonly topic: string
  readonly partition: number
  /** Kafka offsets are 64-bit; kept as decimal strings like kafkajs does. */
  readonly offset: string
  /** Broker/producer timestamp (ms): the start of the end-to-end latency clock. */
  readonly timestamp: number
  readonly key: Buffer | null
  readonly value: Buffer | null
  /** High watermark of the fetch this record came in, for consumer lag. */
  readonly highWatermark: string
}

/** What the pipeline reads of a fetched Kafka message (kafkajs's KafkaMessage has these fields). */
export interface FetchedMessage {
  readonly offset: string
  readonly timestamp: string
  readonly key: Buffer | null
  readonly value: Buffer | null
}

/** A message of one fetched batch as a SourceRecord. */
export const toRecord = (
  topic: string,
  partition: number,
  highWatermark: string,
  m: FetchedMessage,
): SourceRecord => ({
  topic,
  partition,
  offset: m.offset,
  timestamp: Number(m.timestamp),
  key: m.key,
  value: m.value,
  highWatermark,
})

export interface TopicPartitionOffset {
  readonly topic: string
  readonly partition: number
  /** The next offset to read: last processed + 1. */
  readonly offset: string
}

export interface DecodedEvent {
  readonly event: Event
  readonly record: SourceRecord
}

export type { DeadLetterReason } from "@rtoa/core"

/** A record the pipeline refuses, with why; it goes to the dead-letter topic unchanged. */
export interface DeadLetter {
  readonly record: SourceRecord
  readonly reason: DeadLetterReason
  readonly detail: string
}

/** One row of raw_events (core's schema/tables.ts). */
export type RawEventRow = TableRow<"raw_events">

/** One batch's pre-aggregate for a minute and dimension set (a row of metrics_minutely_input). */
export type MinuteAggregate = TableRow<"metrics_minutely_input">

/** What the sink writes for one batch. */
export interface SinkBatch {
  readonly rows: ReadonlyArray<RawEventRow>
  readonly aggregates: ReadonlyArray<MinuteAggregate>
}
