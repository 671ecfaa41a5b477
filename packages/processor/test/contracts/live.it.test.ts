import * as path from "node:path"
import {
  applyMigrations,
  ClickHouse,
  closeQuietly,
  ensureTopics,
  KafkaClient,
  type KafkaConfig,
  kafkaTry,
  makeClickHouse,
  makeKafka,
  readTopic,
} from "@rtoa/core"
import { brokers, repoRoot, tempDir, uniqueName } from "@rtoa/core/test/support/it.ts"
import { ClickHouseSinkLive, DeadLetterSink, EventSink } from "@rtoa/pipeline"
import { Context, Duration, Effect, Layer, type Scope } from "effect"
import { Kafka, logLevel, Partitioners } from "kafkajs"
import * as KafkaDeadLetters from "../../src/kafka-dead-letters.ts"
import { makeKafkaSource } from "../../src/kafka-source.ts"
import { Metrics, ProcessorMetrics } from "../../src/metrics.ts"
import { deadLetterContract } from "./dead-letter-contract.ts"
import { minuteLine, type SinkHarness, sinkContract } from "./sink-contract.ts"
import { type SourceHarness, sourceContract } from "./source-contract.ts"

// The contract suites on the live layers: the Kafka source and dead-letter sink on the test
// broker, the ClickHouse sink on the embedded engine (one per process: this file).

const kafkaConfig = (topic: string): KafkaConfig => ({
  brokers: brokers.split(","),
  clientId: "rtoa-contract",
  topic,
  dlqTopic: `${topic}-dlq`,
  groupId: `${topic}-group`,
  partitions: 3,
})

const liveSource: Effect.Effect<SourceHarness, never, Scope.Scope> = Effect.gen(function* () {
  const config = kafkaConfig(uniqueName("contract-source"))
  const kafka = makeKafka(config)
  yield* ensureTopics(kafka, [{ topic: config.topic, partitions: 3 }])
  const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner })
  yield* Effect.acquireRelease(
    kafkaTry("producer.connect", () => producer.connect()),
    () => closeQuietly("the contract producer", () => producer.disconnect()),
  )
  const harness: SourceHarness = {
    produce: (partition, values) =>
      kafkaTry("producer.send", () =>
        producer.send({
          topic: config.topic,
          acks: -1,
          messages: values.map((value) => ({ value, partition })),
        }),
      ).pipe(Effect.orDie, Effect.asVoid),
    member: (capacity) =>
      Effect.gen(function* () {
        const metrics = new ProcessorMetrics()
        const service = yield* makeKafkaSource({
          queueCapacity: capacity,
          // A fetch of at most ~1 KB: five of the harness's 10-record sends (~200 bytes each).
          maxBytesPerPartition: 1_024,
          minBytes: 1,
          maxWaitMs: 100,
          fromBeginning: true,
          sessionTimeoutMs: 10_000,
        }).pipe(
          Effect.provideService(KafkaClient, { kafka, config }),
          Effect.provideService(Metrics, metrics),
        )
        return { service, fetched: Effect.sync(() => metrics.fetched) }
      }).pipe(Effect.orDie),
    // 50 measured; some headroom for longer values.
    maxFetchRecords: 60,
    patience: Duration.seconds(60),
  }
  return harness
}).pipe(Effect.orDie)

const dataPath = path.join(tempDir("contract"), "chdb")

/** Each sink gets an empty database of its own on the file's engine, migrated. */
const liveSink: SinkHarness = {
  make: (fault) =>
    Effect.gen(function* () {
      const database = uniqueName("contract").replace("-", "_")
      const ch = yield* makeClickHouse({ _tag: "Embedded", dataPath, database })
      yield* applyMigrations(ch, path.join(repoRoot, "db"))
      if (fault === "table-dropped") yield* ch.command("DROP TABLE raw_events SYNC")
      if (fault === "refuses-user-poison")
        yield* ch.command("ALTER TABLE raw_events ADD CONSTRAINT no_poison CHECK user_id != 'poison'")
      const context = yield* Layer.build(
        ClickHouseSinkLive.pipe(Layer.provide(Layer.succeed(ClickHouse, ch))),
      )
      const stored = Effect.gen(function* () {
        const events = yield* ch.query<{ event_id: string }>(
          "SELECT event_id FROM raw_events FINAL ORDER BY event_id",
        )
        const minutes = yield* ch.query<{
          t: string
          c: string
          s: string
          e: string
          events: string
          users: string
        }>(
          "SELECT time_window AS t, dimension_channel AS c, event_source AS s, event_type AS e, uniqExactMerge(event_count_state) AS events, uniqMerge(unique_users_state) AS users FROM metrics_minutely GROUP BY t, c, s, e",
        )
        return {
          events: events.map((r) => r.event_id),
          minutes: minutes
            .map((m) => minuteLine(m.t, m.c, m.s, m.e, Number(m.events), Number(m.users)))
            .sort(),
        }
      }).pipe(Effect.orDie)
      return { service: Context.get(context, EventSink), stored }
    }).pipe(Effect.orDie),
}

sourceContract("Kafka (live)", liveSource, 180_000)
sinkContract("ClickHouse (live)", liveSink, 60_000)
deadLetterContract(
  "Kafka (live)",
  {
    make: Effect.gen(function* () {
      const config = kafkaConfig(uniqueName("contract-dlq"))
      const kafka = makeKafka(config)
      yield* ensureTopics(kafka, [{ topic: config.dlqTopic, partitions: 1 }])
      const context = yield* Layer.build(
        KafkaDeadLetters.layer({ maxPayloadBytes: 65_536 }).pipe(
          Layer.provide(Layer.succeed(KafkaClient, { kafka, config })),
        ),
      )
      const published = readTopic(kafka, config.dlqTopic).pipe(
        Effect.map((records) =>
          records.map((r) => ({
            position: `${r.headers["dlq.source.topic"]}:${r.headers["dlq.source.partition"]}:${r.headers["dlq.source.offset"]}`,
            reason: r.headers["dlq.reason"] ?? "",
            value: r.value?.toString() ?? null,
          })),
        ),
        Effect.orDie,
      )
      return { service: Context.get(context, DeadLetterSink), published }
    }).pipe(Effect.orDie),
    // Nothing listens on port 1: the connection is refused at once (no retries, to keep it short).
    publishUnreachable: (letters) =>
      Effect.gen(function* () {
        const config = { ...kafkaConfig("unreachable"), brokers: ["127.0.0.1:1"] }
        const kafka = new Kafka({
          clientId: "rtoa-contract",
          brokers: config.brokers,
          retry: { retries: 0 },
          logLevel: logLevel.NOTHING,
        })
        const context = yield* Layer.build(
          KafkaDeadLetters.layer({ maxPayloadBytes: 65_536 }).pipe(
            Layer.provide(Layer.succeed(KafkaClient, { kafka, config })),
          ),
        )
        yield* Context.get(context, DeadLetterSink).publish(letters)
      }),
  },
  60_000,
)
