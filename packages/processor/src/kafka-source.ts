import {
  closeQuietly,
  hasErrorType,
  KafkaClient,
  KafkaError,
  kafkaTry,
  metadataMaxAge,
  ProcessorConfig,
} from "@rtoa/core"
import {
  EventSource,
  type EventSourceService,
  offerWhileHeartbeating,
  type SourceRecord,
  toRecord,
} from "@rtoa/pipeline"
import { Chunk, Config, Duration, Effect, Layer, Queue, Ref, Runtime, Stream, Take } from "effect"
import type { EachBatchPayload } from "kafkajs"
import { Metrics } from "./metrics.ts"

export interface KafkaSourceSettings {
  /** Fetched batches buffered between kafkajs and the pipeline; a full buffer pauses fetching. */
  readonly queueCapacity: number
  /** Largest fetch per partition: with queueCapacity, what a stalled pipeline can hold. */
  readonly maxBytesPerPartition: number
  /**
   * The broker holds a fetch until it has `minBytes` or `maxWaitMs` passed: 1 byte answers at once
   * (lowest latency, one fetch per few records at low rates), more trades a little latency for far
   * fewer fetches.
   */
  readonly minBytes: number
  readonly maxWaitMs: number
  /** Read the topic from the beginning when the group has no committed offset. */
  readonly fromBeginning: boolean
  /** Group session timeout: a crashed member's partitions move after this long. */
  readonly sessionTimeoutMs: number
}

/**
 * Live source: a kafkajs consumer-group member. Each fetched batch is offered to a bounded queue
 * (backpressure: kafkajs fetches no further for that partition until there is room, and keeps
 * heartbeating meanwhile so a slow sink does not cost the group membership). The fetch position
 * advances on enqueue; the committed offset only when the pipeline calls `commit` after the sink
 * acknowledged. kafkajs never commits by itself with autoCommit off.
 */
export const makeKafkaSource = (settings: KafkaSourceSettings) =>
  Effect.gen(function* () {
    const { kafka, config } = yield* KafkaClient
    const metrics = yield* Metrics
    const runtime = yield* Effect.runtime<never>()
    const queue = yield* Queue.bounded<Take.Take<SourceRecord, KafkaError>>(settings.queueCapacity)
    const closing = yield* Ref.make(false)

    const consumer = kafka.consumer({
      groupId: config.groupId,
      sessionTimeout: settings.sessionTimeoutMs,
      heartbeatInterval: Math.max(500, Math.floor(settings.sessionTimeoutMs / 10)),
      minBytes: settings.minBytes,
      maxWaitTimeInMs: settings.maxWaitMs,
      maxBytesPerPartition: settings.maxBytesPerPartition,
      metadataMaxAge: metadataMaxAge(config),
    })
    yield* Effect.acquireRelease(
      kafkaTry("consumer.connect", () => consumer.connect()),
      () => closeQuietly("the Kafka consumer", () => consumer.disconnect()),
    )
    consumer.on(consumer.events.CRASH, (event) => {
      if (!event.payload.restart) {
        const error = new KafkaError({ operation: "consumer.run", message: event.payload.error.message })
        Runtime.runFork(runtime)(Queue.offer(queue, Take.fail(error)))
      }
    })
    yield* kafkaTry("consumer.subscribe", () =>
      consumer.subscribe({ topics: [config.topic], fromBeginning: settings.fromBeginning }),
    )

    const heartbeatEvery = Duration.millis(Math.max(500, Math.floor(settings.sessionTimeoutMs / 10)))
    const eachBatch = async ({ batch, resolveOffset, heartbeat, isRunning, isStale }: EachBatchPayload) => {
      if (batch.messages.length === 0 || !isRunning() || isStale()) return
      if (Runtime.runSync(runtime)(Ref.get(closing))) return
      const records = batch.messages.map((m) =>
        toRecord(batch.topic, batch.partition, batch.highWatermark, m),
      )
      metrics.fetched += records.length
      const take = Take.chunk(Chunk.unsafeFromArray(records))
      // Room in the buffer (the usual case): in at once. Full: wait for room, heartbeating. At low
      // rates a fetch brings a few records, so this runs per few records: no fiber unless needed.
      if (!Queue.unsafeOffer(queue, take))
        await Runtime.runPromise(runtime)(offerWhileHeartbeating(queue, take, heartbeat, heartbeatEvery))
      resolveOffset(batch.lastOffset())
      await heartbeat()
    }

    const runConfig = {
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: Math.max(1, config.partitions),
      eachBatch,
    }
    yield* kafkaTry("consumer.run", () => consumer.run(runConfig))

    // kafkajs 2.2.4 commits to the coordinator it found when it last joined the group
    // (offsetManager.getCoordinator looks again only after a disconnect). When the group's
    // coordinator moves to another broker that stays up (a rolling restart, a coordinator failover),
    // every commit fails with NOT_COORDINATOR until the member rejoins, and a member whose rejoin
    // failed ("coordinator is loading") was seen to stay that way for minutes: commits stalled
    // while records kept flowing. Restarting the consumer finds the coordinator again and rejoins;
    // what was fetched meanwhile is committed by the new member or replayed (deduplicated).
    const scope = yield* Effect.scope
    const restarting = yield* Ref.make(false)
    const restartMember = Effect.gen(function* () {
      if (yield* Ref.getAndSet(restarting, true)) return
      yield* Effect.logWarning(
        "offset commits go to a broker that is no longer the group coordinator: restarting the group member",
      )
      const stopAndRun = Effect.gen(function* () {
        yield* kafkaTry("consumer.stop", () => consumer.stop())
        if (!(yield* Ref.get(closing))) yield* kafkaTry("consumer.run", () => consumer.run(runConfig))
      })
      yield* stopAndRun.pipe(
        Effect.catchAll((e) => Effect.logWarning(`restarting the group member failed: ${e.message}`)),
        Effect.ensuring(Ref.set(restarting, false)),
      )
    })

    const service: EventSourceService = {
      records: Stream.fromQueue(queue).pipe(Stream.flattenTake),
      commit: (offsets) =>
        offsets.length === 0
          ? Effect.void
          : kafkaTry("consumer.commitOffsets", () => consumer.commitOffsets([...offsets])).pipe(
              Effect.tapError((e) =>
                hasErrorType(e.cause, "NOT_COORDINATOR_FOR_GROUP")
                  ? Effect.forkIn(restartMember, scope)
                  : Effect.void,
              ),
            ),
      drain: Effect.gen(function* () {
        yield* Ref.set(closing, true)
        yield* Effect.sync(() => consumer.pause([{ topic: config.topic }]))
        yield* Queue.offer(queue, Take.end)
      }),
    }
    return service
  })

/** The live source from plain settings; `layerConfig` reads them from Config (as @effect/sql clients do). */
export const layer = (
  settings: KafkaSourceSettings,
): Layer.Layer<EventSource, KafkaError, KafkaClient | Metrics> =>
  Layer.scoped(EventSource, makeKafkaSource(settings))

/** The processor's settings: SOURCE_*, KAFKA_SESSION_TIMEOUT_MS (core's ProcessorConfig). */
export const settingsConfig: Config.Config<KafkaSourceSettings> = Config.map(ProcessorConfig, (c) => ({
  queueCapacity: c.queueCapacity,
  maxBytesPerPartition: c.fetchMaxBytesPerPartition,
  minBytes: c.fetchMinBytes,
  maxWaitMs: Duration.toMillis(c.fetchMaxWait),
  fromBeginning: true,
  sessionTimeoutMs: Duration.toMillis(c.sessionTimeout),
}))

export const layerConfig = (config: Config.Config.Wrap<KafkaSourceSettings> = settingsConfig) =>
  Layer.unwrapEffect(Effect.map(Config.unwrap(config), layer))
