import { randomUUID } from "node:crypto"
import { adminClient, closeQuietly, KafkaClient, KafkaError, kafkaTry } from "@rtoa/core"
import { compareOffsets, offerWhileHeartbeating, type SourceRecord, toRecord } from "@rtoa/pipeline"
import { Chunk, Context, Duration, Effect, Layer, Queue, Runtime, Schedule, Stream, Take } from "effect"
import type { EachBatchPayload, Kafka } from "kafkajs"
import { ReplayStalled } from "./errors.ts"
import type { Position, Stamped } from "./plan.ts"

/** Offsets [start, end) of one partition. */
export interface PartitionRange {
  readonly partition: number
  readonly start: bigint
  readonly end: bigint
}

/**
 * Reads exactly the given offset ranges of a topic, then ends. It is its own throwaway consumer
 * group (never the processor's), commits nothing, and deletes the group when done.
 */
export interface ReplayReaderService {
  readonly read: (
    topic: string,
    ranges: ReadonlyArray<PartitionRange>,
  ) => Stream.Stream<SourceRecord, KafkaError | ReplayStalled>
}

export class ReplayReader extends Context.Tag("rtoa/reprocessor/ReplayReader")<
  ReplayReader,
  ReplayReaderService
>() {}

export interface ReplayReaderSettings {
  /** Fetched batches buffered ahead of the sink; a full buffer pauses fetching (backpressure). */
  readonly queueCapacity: number
  /** Fail when no batch arrives for this long while partitions are unfinished and none waits. */
  readonly stallTimeout: Duration.DurationInput
}

// The live source's default buffer (SOURCE_QUEUE_CAPACITY); a minute without a batch is a stall.
const readerSettings: ReplayReaderSettings = { queueCapacity: 16, stallTimeout: "60 seconds" }

type Item = Take.Take<SourceRecord, KafkaError | ReplayStalled>

const deleteGroup = (kafka: Kafka, groupId: string) =>
  Effect.scoped(
    Effect.flatMap(adminClient(kafka), (admin) =>
      kafkaTry("admin.deleteGroups", () => admin.deleteGroups([groupId])),
    ),
  ).pipe(Effect.timeout("5 seconds"), Effect.ignore)

const open = (
  kafka: Kafka,
  topic: string,
  ranges: ReadonlyArray<PartitionRange>,
  settings: ReplayReaderSettings,
) =>
  Effect.gen(function* () {
    const runtime = yield* Effect.runtime<never>()
    const queue = yield* Queue.bounded<Item>(settings.queueCapacity)
    const wanted = new Map(ranges.map((r) => [r.partition, r]))
    // Next offset to deliver per partition: a re-join seeks here, so nothing is read twice.
    const next = new Map(ranges.map((r) => [r.partition, r.start]))
    const done = new Set<number>()
    let ended = false
    let inFlight = 0
    let lastActivity = Date.now()

    const groupId = `rtoa-reprocess-${process.pid}-${randomUUID().slice(0, 8)}`
    const consumer = kafka.consumer({
      groupId,
      sessionTimeout: 30_000,
      heartbeatInterval: 3_000,
      maxWaitTimeInMs: 250,
      maxBytesPerPartition: 4 * 1024 * 1024,
      allowAutoTopicCreation: false,
    })
    // Shut the queue first: an eachBatch blocked on a full queue would hold up disconnect.
    yield* Effect.acquireRelease(
      kafkaTry("consumer.connect", () => consumer.connect()),
      () =>
        Queue.shutdown(queue).pipe(
          Effect.zipRight(closeQuietly("the replay consumer", () => consumer.disconnect())),
          Effect.zipRight(deleteGroup(kafka, groupId)),
        ),
    )

    const finish = (item: Item) =>
      Effect.suspend(() => {
        if (ended) return Effect.void
        ended = true
        return Queue.offer(queue, item)
      })
    const markDone = (partition: number) =>
      Effect.suspend(() => {
        if (done.has(partition)) return Effect.void
        done.add(partition)
        consumer.pause([{ topic, partitions: [partition] }])
        return done.size === wanted.size ? finish(Take.end) : Effect.void
      })

    // Emitted synchronously after join+sync, before any fetch: position each wanted partition
    // at its next offset (with autoCommit off, seek only moves the position) and pause the rest.
    consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
      lastActivity = Date.now()
      const assigned = payload.memberAssignment[topic] ?? []
      const idle = assigned.filter((p) => !wanted.has(p) || done.has(p))
      if (idle.length > 0) consumer.pause([{ topic, partitions: idle }])
      for (const p of assigned)
        if (wanted.has(p) && !done.has(p)) consumer.seek({ topic, partition: p, offset: String(next.get(p)) })
    })
    // Batches made only of control records never reach eachBatch but still move past the end.
    consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => {
      lastActivity = Date.now()
      const range = wanted.get(payload.partition)
      if (payload.topic === topic && range !== undefined && BigInt(payload.lastOffset) >= range.end - 1n)
        Runtime.runFork(runtime)(markDone(payload.partition))
    })
    consumer.on(consumer.events.CRASH, ({ payload }) => {
      if (!payload.restart) {
        const error = new KafkaError({ operation: "consumer.run", message: payload.error.message })
        Runtime.runFork(runtime)(finish(Take.fail(error)))
      }
    })

    const eachBatch = async ({ batch, resolveOffset, heartbeat }: EachBatchPayload) => {
      const range = wanted.get(batch.partition)
      if (range === undefined || done.has(batch.partition)) return
      inFlight += 1
      lastActivity = Date.now()
      try {
        const from = String(next.get(batch.partition) ?? range.start)
        const end = String(range.end)
        const records = batch.messages
          .filter((m) => compareOffsets(m.offset, from) >= 0 && compareOffsets(m.offset, end) < 0)
          .map((m) => toRecord(topic, batch.partition, batch.highWatermark, m))
        const last = records[records.length - 1]
        if (last !== undefined) {
          await Runtime.runPromise(runtime)(
            offerWhileHeartbeating(queue, Take.chunk(Chunk.unsafeFromArray(records)), heartbeat, "3 seconds"),
          )
          next.set(batch.partition, BigInt(last.offset) + 1n)
        }
        resolveOffset(batch.lastOffset())
        if (BigInt(batch.lastOffset()) >= range.end - 1n)
          await Runtime.runPromise(runtime)(markDone(batch.partition))
      } finally {
        inFlight -= 1
        lastActivity = Date.now()
      }
    }

    const stallMs = Duration.toMillis(Duration.decode(settings.stallTimeout))
    const watchdog = Effect.suspend(() => {
      if (ended || inFlight > 0 || Date.now() - lastActivity < stallMs) return Effect.void
      const behind = [...wanted.values()]
        .filter((r) => !done.has(r.partition))
        .map((r) => `partition ${r.partition} at offset ${next.get(r.partition)} of ${r.end}`)
      const message = `no records arrived for ${stallMs / 1_000} s (${behind.join(", ")}); what was read is written, rerunning is safe`
      return finish(Take.fail(new ReplayStalled({ message })))
    })
    yield* Effect.forkScoped(Effect.repeat(watchdog, Schedule.spaced("1 second")))

    yield* kafkaTry("consumer.subscribe", () => consumer.subscribe({ topics: [topic], fromBeginning: true }))
    yield* kafkaTry("consumer.run", () =>
      consumer.run({
        autoCommit: false,
        eachBatchAutoResolve: false,
        partitionsConsumedConcurrently: Math.max(1, wanted.size),
        eachBatch,
      }),
    )
    return Stream.fromQueue(queue).pipe(Stream.flattenTake)
  })

export const makeReplayReader = (kafka: Kafka, settings: ReplayReaderSettings): ReplayReaderService => ({
  read: (topic, ranges) => {
    const active = ranges.filter((r) => r.end > r.start)
    return active.length === 0 ? Stream.empty : Stream.unwrapScoped(open(kafka, topic, active, settings))
  },
})

export const ReplayReaderLive: Layer.Layer<ReplayReader, never, KafkaClient> = Layer.effect(
  ReplayReader,
  Effect.map(KafkaClient, ({ kafka }) => makeReplayReader(kafka, readerSettings)),
)

/** The timestamps of single records (best effort: a record that cannot be read is left out). */
export const peekTimestamps = (topic: string, positions: ReadonlyArray<Position>) =>
  Effect.gen(function* () {
    if (positions.length === 0) return []
    const reader = yield* ReplayReader
    const records = yield* reader
      .read(
        topic,
        positions.map((p) => ({ partition: p.partition, start: p.offset, end: p.offset + 1n })),
      )
      .pipe(Stream.runCollect)
    return Chunk.toReadonlyArray(records).map(
      (r): Stamped => ({ partition: r.partition, offset: BigInt(r.offset), timestamp: r.timestamp }),
    )
  }).pipe(
    Effect.timeout("15 seconds"),
    Effect.orElseSucceed((): ReadonlyArray<Stamped> => []),
  )
