import type { KafkaError } from "@rtoa/core"
import { Chunk, Context, type Duration, Effect, Queue, Ref, Schedule, Stream, Take } from "effect"
import type { SourceRecord, TopicPartitionOffset } from "./model.ts"

/**
 * Source stage: records in, commits out. The live layer (the processor's kafka-source.ts) is a
 * consumer-group member with manual commits; the in-memory one below drives unit tests without a
 * broker, and `noCommitSource` turns any record stream into a source (the reprocessor's replay).
 */
export interface EventSourceService<E = KafkaError> {
  /** Records in fetch order per partition, chunked as they were fetched. */
  readonly records: Stream.Stream<SourceRecord, E>
  /** Commit the next offsets to read; called only after the sink acknowledged them. */
  readonly commit: (offsets: ReadonlyArray<TopicPartitionOffset>) => Effect.Effect<void, KafkaError>
  /** Stop fetching and end `records` once what is already buffered has been emitted. */
  readonly drain: Effect.Effect<void>
}

export class EventSource extends Context.Tag("rtoa/EventSource")<EventSource, EventSourceService>() {}

export interface InMemorySource {
  readonly service: EventSourceService
  /**
   * Deliver one fetched batch (one chunk of the stream), less the records below the offsets the
   * group had committed when this source was made. After `drain` nothing is taken (false), as the
   * live source fetches nothing more: those records are left for the group's next member.
   */
  readonly push: (records: ReadonlyArray<SourceRecord>) => Effect.Effect<boolean>
  /** Fail the stream, as a crashed consumer would. */
  readonly fail: (error: KafkaError) => Effect.Effect<void>
  /** Every commit call, in order. */
  readonly commits: Effect.Effect<ReadonlyArray<ReadonlyArray<TopicPartitionOffset>>>
}

/**
 * A consumer group's committed offsets ("topic:partition" -> next offset to read), shared by the
 * in-memory sources made on it: a source resumes where the group committed, as a new member of a
 * Kafka group does.
 */
export type InMemoryGroup = Ref.Ref<ReadonlyMap<string, bigint>>

export const makeInMemoryGroup: Effect.Effect<InMemoryGroup> = Ref.make<ReadonlyMap<string, bigint>>(
  new Map(),
)

/**
 * `capacity` bounds the fetched batches buffered, like the live source's queue (default:
 * unbounded); `group` holds the commits across sources (default: a group of its own).
 */
export const makeInMemorySource = (
  onCommit: (offsets: ReadonlyArray<TopicPartitionOffset>) => Effect.Effect<void> = () => Effect.void,
  capacity?: number,
  group?: InMemoryGroup,
): Effect.Effect<InMemorySource> =>
  Effect.gen(function* () {
    const queue = yield* capacity === undefined
      ? Queue.unbounded<Take.Take<SourceRecord, KafkaError>>()
      : Queue.bounded<Take.Take<SourceRecord, KafkaError>>(capacity)
    const commits = yield* Ref.make<ReadonlyArray<ReadonlyArray<TopicPartitionOffset>>>([])
    const committed = group ?? (yield* makeInMemoryGroup)
    const startAt = yield* Ref.get(committed)
    let draining = false
    const fetchable = (r: SourceRecord) =>
      BigInt(r.offset) >= (startAt.get(`${r.topic}:${r.partition}`) ?? 0n)
    return {
      service: {
        records: Stream.fromQueue(queue).pipe(Stream.flattenTake),
        // Like the live source: committing nothing is no call at all.
        commit: (offsets) =>
          offsets.length === 0
            ? Effect.void
            : onCommit(offsets).pipe(
                Effect.zipRight(Ref.update(commits, (all) => [...all, offsets])),
                Effect.zipRight(
                  Ref.update(
                    committed,
                    (all) =>
                      new Map([
                        ...all,
                        ...offsets.map((o) => [`${o.topic}:${o.partition}`, BigInt(o.offset)] as const),
                      ]),
                  ),
                ),
              ),
        drain: Effect.suspend(() => {
          draining = true
          return Queue.offer(queue, Take.end)
        }),
      },
      push: (records) =>
        Effect.suspend(() =>
          draining
            ? Effect.succeed(false)
            : Queue.offer(queue, Take.chunk(Chunk.fromIterable(records.filter(fetchable)))).pipe(
                Effect.as(true),
              ),
        ),
      fail: (error) => Queue.offer(queue, Take.fail(error)),
      commits: Ref.get(commits),
    }
  })

/**
 * A source over `records` that commits nothing (a replay keeps its position in its reader; every
 * write is idempotent). The records end on their own (the reader stops after its ranges), so
 * `drain` has nothing to stop.
 */
export const noCommitSource = <E>(records: Stream.Stream<SourceRecord, E>): EventSourceService<E> => ({
  records,
  commit: () => Effect.void,
  drain: Effect.void,
})

/**
 * Offers a fetched batch to a bounded queue, heartbeating while it waits for room, so a consumer
 * stalled by backpressure keeps its group membership (kafkajs heartbeats only between batches).
 */
export const offerWhileHeartbeating = <A>(
  queue: Queue.Enqueue<A>,
  item: A,
  heartbeat: () => Promise<void>,
  every: Duration.DurationInput,
) =>
  Effect.raceFirst(
    Queue.offer(queue, item),
    Effect.tryPromise(heartbeat).pipe(
      Effect.ignore,
      Effect.repeat(Schedule.spaced(every)),
      Effect.zipRight(Effect.never),
    ),
  )

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
