import { type ConfigError, Context, Effect, Layer, Schedule, type Scope } from "effect"
import { type Admin, Kafka, type LogEntry, logLevel } from "kafkajs"
import { closeQuietly } from "./close-quietly.ts"
import { registerCodecs } from "./codecs.ts"
import { defaultMetadataMaxAgeMs, KafkaConfig } from "./config.ts"
import { KafkaError, messageOf } from "./errors.ts"
import {
  kafkajsSecurityOptions,
  plaintext,
  securityHint,
  securityWarnings,
  tidyTlsMessage,
} from "./kafka-security.ts"

// Every kafkajs client is built here (makeKafka), so this is where snappy, lz4 and zstd join gzip.
registerCodecs()

/** The kafkajs client for the configured brokers, plus the config it was built from. */
export class KafkaClient extends Context.Tag("rtoa/KafkaClient")<
  KafkaClient,
  { readonly kafka: Kafka; readonly config: KafkaConfig }
>() {}

// kafkajs logs through its own logger; route warnings and errors to stderr as one line each.
const logCreator =
  () =>
  ({ level, log }: LogEntry) => {
    if (level > logLevel.WARN) return
    const { message, timestamp: _t, logger: _l, ...extra } = log
    const detail = Object.keys(extra).length > 0 ? ` ${JSON.stringify(extra)}` : ""
    process.stderr.write(`[kafkajs ${level === logLevel.ERROR ? "error" : "warn"}] ${message}${detail}\n`)
  }

// Said once per process, however many clients it builds, but said loudly.
const warned = new Set<string>()
const warnOnce = (warning: string) => {
  if (warned.has(warning)) return
  warned.add(warning)
  process.stderr.write(`[kafka security] WARNING: ${warning}\n`)
}

/** A kafkajs client with the config's brokers and security; every program's clients come from here. */
export const makeKafka = (config: KafkaConfig): Kafka => {
  const security = config.security ?? plaintext
  for (const warning of securityWarnings(security)) warnOnce(warning)
  return new Kafka({
    clientId: config.clientId,
    brokers: [...config.brokers],
    logLevel: logLevel.WARN,
    logCreator,
    retry: { initialRetryTime: 200, retries: 8, maxRetryTime: 5_000 },
    ...kafkajsSecurityOptions(security),
  })
}

export const KafkaClientLive: Layer.Layer<KafkaClient, ConfigError.ConfigError> = Layer.effect(
  KafkaClient,
  Effect.map(KafkaConfig, (config) => ({ kafka: makeKafka(config), config })),
)

/**
 * kafkajs takes the metadata refresh interval per producer and consumer, not per client: every
 * long-lived one passes this (KAFKA_METADATA_MAX_AGE_MS), so partitions added to a topic are
 * written to and consumed within that interval, without a restart.
 */
export const metadataMaxAge = (config: KafkaConfig): number =>
  config.metadataMaxAgeMs ?? defaultMetadataMaxAgeMs

/**
 * What every long-lived producer is built with: the metadata refresh above, and kafkajs's own
 * retry of a send turned off. kafkajs 2.2.4 retries a send only towards the brokers that have not
 * answered it yet (producer/sendMessages.js): when a partition's leader moves to a broker that
 * already acknowledged its share, that partition's records are never resent and the send still
 * resolves as acknowledged. The cluster chaos run lost 204 acknowledged events that way during
 * a rolling restart. The callers retry the whole send instead: a resend is a duplicate, which the
 * processor collapses by event_id, never a loss.
 */
export const producerOptions = (config: KafkaConfig) => ({
  allowAutoTopicCreation: false,
  metadataMaxAge: metadataMaxAge(config),
  retry: { retries: 0 },
})

export const kafkaTry = <A>(operation: string, f: () => Promise<A>) =>
  Effect.tryPromise({
    try: f,
    catch: (cause) => {
      const message = tidyTlsMessage(messageOf(cause))
      const hint = securityHint(message)
      return new KafkaError({
        operation,
        message: hint === undefined ? message : `${message} (${hint})`,
        cause,
      })
    },
  })

/** A connected admin client for the scope's lifetime. */
export const adminClient = (kafka: Kafka): Effect.Effect<Admin, KafkaError, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.gen(function* () {
      const admin = kafka.admin()
      yield* kafkaTry("admin.connect", () => admin.connect())
      return admin
    }),
    (admin) => closeQuietly("the Kafka admin client", () => admin.disconnect()),
  )

// A KRaft broker can answer the leader check after a create before it has applied the new topic
// (UNKNOWN_TOPIC_OR_PARTITION; seen with several clients creating topics at once on a busy box).
// The topic was created: asking again settles it (kafkajs treats "already exists" as done).
/** Whether a kafkajs error, or one it wraps (retries exhausted), is of the given protocol type. */
export const hasErrorType = (error: unknown, type: string): boolean => {
  let e: unknown = error
  for (let depth = 0; depth < 5 && typeof e === "object" && e !== null; depth++) {
    if ((e as { type?: unknown }).type === type) return true
    e = (e as { cause?: unknown }).cause
  }
  return false
}

const metadataLag = (e: KafkaError) => hasErrorType(e.cause, "UNKNOWN_TOPIC_OR_PARTITION")

/**
 * How a created topic is replicated: `replicationFactor` replicas (0: the broker's
 * `default.replication.factor`), and with 3 or more, `min.insync.replicas=2`, so an acks=all write
 * survives one broker's loss and still needs two copies (with 0 the broker's
 * `min.insync.replicas` applies: 2 on the local 3-node cluster, see infra/kafka).
 */
const topicReplication = (replicationFactor: number) =>
  replicationFactor <= 0
    ? { replicationFactor: -1 }
    : {
        replicationFactor,
        configEntries: [
          { name: "min.insync.replicas", value: String(Math.max(1, Math.min(2, replicationFactor - 1))) },
        ],
      }

/** Creates the topics that do not exist yet (unless `create` is false); returns those still missing. */
export const ensureTopics = (
  kafka: Kafka,
  topics: ReadonlyArray<{ topic: string; partitions: number }>,
  create = true,
  replicationFactor = 0,
) =>
  Effect.scoped(
    Effect.gen(function* () {
      const admin = yield* adminClient(kafka)
      const existing = new Set(yield* kafkaTry("admin.listTopics", () => admin.listTopics()))
      const missing = topics.filter((t) => !existing.has(t.topic))
      if (missing.length === 0 || !create) return missing.map((t) => t.topic)
      yield* kafkaTry("admin.createTopics", () =>
        admin.createTopics({
          waitForLeaders: true,
          topics: missing.map((t) => ({
            topic: t.topic,
            numPartitions: t.partitions,
            ...topicReplication(replicationFactor),
          })),
        }),
      ).pipe(Effect.retry({ while: metadataLag, schedule: Schedule.spaced("200 millis"), times: 10 }))
      const now = new Set(yield* kafkaTry("admin.listTopics", () => admin.listTopics()))
      return missing.filter((t) => !now.has(t.topic)).map((t) => t.topic)
    }),
  )

/**
 * The topics every program expects: the event topic and its dead-letter topic. A missing one
 * that cannot (or may not, KAFKA_CREATE_TOPICS=false) be created is a start-up error that says
 * which: without a dead-letter topic, refused records would have nowhere to go.
 */
export const ensureAppTopics = Effect.gen(function* () {
  const { kafka, config } = yield* KafkaClient
  const missing = yield* ensureTopics(
    kafka,
    [
      { topic: config.topic, partitions: config.partitions },
      { topic: config.dlqTopic, partitions: 1 },
    ],
    config.createTopics ?? true,
    config.replicationFactor ?? 0,
  )
  if (missing.length > 0) {
    const names = missing.map((t) =>
      t === config.dlqTopic ? `dead-letter topic "${t}" (KAFKA_DLQ_TOPIC)` : `topic "${t}" (KAFKA_TOPIC)`,
    )
    return yield* new KafkaError({
      operation: "start-up",
      message: `${names.join(" and ")} missing on ${config.brokers.join(",")}${config.createTopics === false ? " and KAFKA_CREATE_TOPICS=false" : ""}: create ${missing.length > 1 ? "them" : "it"}, let the processor create ${missing.length > 1 ? "them" : "it"} (KAFKA_CREATE_TOPICS=true, the default), or point the variable at an existing topic`,
    })
  }
})
