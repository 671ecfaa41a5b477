import type { KafkaError } from "@rtoa/core"
import { Chunk, Context, Effect, Queue, Ref, Stream, Take } from "effect"
import type { SourceRecord, TopicPartitionOffset } from "./model.ts"

/**
 * Source stage: records in, commits out. The live layer (kafka-source.ts) is a consumer-group
 * member with manual commits; the in-memory one below drives unit tests without a broker.
 */
export interface EventSourceService {
  /** Records in fetch order per partition, chunked as they were fetched. */
  readonly records: Stream.Stream<SourceRecord, KafkaError>
  /** Commit the next offsets to read; called only after the sink acknowledged them. */
  readonly commit: (offsets: ReadonlyArray<TopicPartitionOffset>) => Effect.Effect<void, KafkaError>
  /** Stop fetching and end `records` once what is already buffered has been emitted. */
  readonly drain: Effect.Effect<void>
}

export class EventSource extends Context.Tag("rtoa/EventSource")<EventSource, EventSourceService>() {}

export interface InMemorySource {
  readonly service: EventSourceService
  /** Deliver one fetched batch (one chunk of the stream). */
  readonly push: (records: ReadonlyArray<SourceRecord>) => Effect.Effect<void>
  /** Fail the stream, as a crashed consumer would. */
  readonly fail: (error: KafkaError) => Effect.Effect<void>
  /** Every commit call, in order. */
  readonly commits: Effect.Effect<ReadonlyArray<ReadonlyArray<TopicPartitionOffset>>>
}

/** `capacity` bounds the fetched batches buffered, like the live source's queue (default: unbounded). */
export const makeInMemorySource = (
  onCommit: (offsets: ReadonlyArray<TopicPartitionOffset>) => Effect.Effect<void> = () => Effect.void,
  capacity?: number,
): Effect.Effect<InMemorySource> =>
  Effect.gen(function* () {
    const queue = yield* capacity === undefined
      ? Queue.unbounded<Take.Take<SourceRecord, KafkaError>>()
      : Queue.bounded<Take.Take<SourceRecord, KafkaError>>(capacity)
    const commits = yield* Ref.make<ReadonlyArray<ReadonlyArray<TopicPartitionOffset>>>([])
    return {
      service: {
        records: Stream.fromQueue(queue).pipe(Stream.flattenTake),
        commit: (offsets) =>
          onCommit(offsets).pipe(Effect.zipRight(Ref.update(commits, (all) => [...all, offsets]))),
        drain: Queue.offer(queue, Take.end),
      },
      push: (records) => Queue.offer(queue, Take.chunk(Chunk.fromIterable(records))),
      fail: (error) => Queue.offer(queue, Take.fail(error)),
      commits: Ref.get(commits),
    }
  })

/** Builds a SourceRecord for tests and tools. */
export const sourceRecord = (
  partition: number,
  offset: number,
  value: string | null,
  options: { readonly topic?: string; readonly timestamp?: number; readonly key?: string } = {},
): SourceRecord => ({
  topic: options.topic ?? "events",
  partition,
  offset: String(offset),
  timestamp: options.timestamp ?? 0,
  key: options.key === undefined ? null : Buffer.from(options.key),
  value: value === null ? null : Buffer.from(value),
  highWatermark: String(offset + 1),
})
