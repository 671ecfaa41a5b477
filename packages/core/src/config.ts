import * as path from "node:path"
import { Config, ConfigError, Duration, Either, Redacted } from "effect"
import { type KafkaCompression, kafkaCompressions } from "./codecs.ts"
import { type DecodeLimits, defaultDecodeLimits } from "./json-limits.ts"
import { type KafkaSecurity, kafkaSecurityConfig } from "./kafka-security.ts"
import { readCertificates } from "./pem.ts"

/**
 * Typed configuration, read once at each program's edge from the environment (and `.env`, see
 * env.ts). Every value names its variable; a bad value fails with that name and the accepted form.
 */

// Validation messages repeat the variable's name: Config.validate after a map or a default
// reports an empty path, and a user must see which variable to fix.
const positiveInt = (name: string, fallback: number) =>
  Config.integer(name).pipe(
    Config.withDefault(fallback),
    Config.validate({ message: `${name}: expected a positive integer`, validation: (n) => n > 0 }),
  )

const ratio = (name: string, fallback: number) =>
  Config.number(name).pipe(
    Config.withDefault(fallback),
    Config.validate({
      message: `${name}: expected a number between 0 and 1`,
      validation: (n) => n >= 0 && n <= 1,
    }),
  )

const nonNegativeInt = (name: string, fallback: number) =>
  Config.integer(name).pipe(
    Config.withDefault(fallback),
    Config.validate({ message: `${name}: expected a non-negative integer`, validation: (n) => n >= 0 }),
  )

const millis = (name: string, fallback: number) =>
  Config.integer(name).pipe(
    Config.withDefault(fallback),
    Config.validate({
      message: `${name}: expected a non-negative integer (milliseconds)`,
      validation: (n) => n >= 0,
    }),
    Config.map(Duration.millis),
  )

const hostPort = /^[A-Za-z0-9.-]+:\d{1,5}$/

/** Where the data directory, embedded store and relative paths live (default: the repo root). */
export const HomeDir = Config.string("RTOA_HOME").pipe(Config.withDefault(process.cwd()))

export const InfraMode = Config.literal("local", "docker")("INFRA_MODE").pipe(Config.withDefault("local"))
export type InfraMode = "local" | "docker"

/** kafkajs (like the Java client) refreshes metadata every 5 minutes by default; see KafkaConfig. */
export const defaultMetadataMaxAgeMs = 30_000

export interface KafkaConfig {
  readonly brokers: ReadonlyArray<string>
  readonly clientId: string
  readonly topic: string
  readonly dlqTopic: string
  readonly groupId: string
  readonly partitions: number
  /** Create the topics that are missing at start-up (KAFKA_CREATE_TOPICS, default true). */
  readonly createTopics?: boolean
  /**
   * Replicas of the topics this project creates (KAFKA_REPLICATION_FACTOR); absent or 0: the
   * broker's `default.replication.factor` (1 on the single local node, 3 on the local cluster).
   */
  readonly replicationFactor?: number
  /**
   * How old the clients' cluster metadata may get before it is refreshed (KAFKA_METADATA_MAX_AGE_MS,
   * default 30 s): within this long, a consumer sees partitions added to its topic and rejoins
   * the group to take them, and a producer starts writing to them.
   */
  readonly metadataMaxAgeMs?: number
  /** SASL and TLS for every client (kafka-security.ts); absent means PLAINTEXT. */
  readonly security?: KafkaSecurity
}

export const KafkaConfig: Config.Config<KafkaConfig> = Config.all({
  brokers: Config.string("KAFKA_BROKERS").pipe(
    Config.withDefault("127.0.0.1:19092"),
    Config.map((s) =>
      s
        .split(",")
        .map((b) => b.trim())
        .filter((b) => b.length > 0),
    ),
    Config.validate({
      message: "KAFKA_BROKERS: expected a comma-separated list of host:port (e.g. 127.0.0.1:19092)",
      validation: (bs) => bs.length > 0 && bs.every((b) => hostPort.test(b)),
    }),
  ),
  clientId: Config.string("KAFKA_CLIENT_ID").pipe(Config.withDefault("rtoa")),
  topic: Config.string("KAFKA_TOPIC").pipe(Config.withDefault("events")),
  dlqTopic: Config.string("KAFKA_DLQ_TOPIC").pipe(Config.withDefault("events_dlq")),
  groupId: Config.string("KAFKA_GROUP_ID").pipe(Config.withDefault("rtoa-processor")),
  partitions: positiveInt("KAFKA_TOPIC_PARTITIONS", 3),
  createTopics: Config.boolean("KAFKA_CREATE_TOPICS").pipe(Config.withDefault(true)),
  replicationFactor: nonNegativeInt("KAFKA_REPLICATION_FACTOR", 0),
  metadataMaxAgeMs: positiveInt("KAFKA_METADATA_MAX_AGE_MS", defaultMetadataMaxAgeMs),
  security: kafkaSecurityConfig(HomeDir),
})

/** The one difference between the two modes: an HTTP server, or the engine embedded in-process. */
export type ClickHouseConfig =
  | {
      readonly _tag: "Http"
      readonly url: string
      readonly database: string
      readonly username: string
      readonly password: Redacted.Redacted
      /** PEM CA certificates to trust for an https URL (CLICKHOUSE_CA_FILE), and their file. */
      readonly ca?: { readonly file: string; readonly pem: string }
    }
  | { readonly _tag: "Embedded"; readonly dataPath: string; readonly database: string }

// The URL is printed (ddl, chclient), so it may not carry the password; the check's message
// must not echo it either.
const credentialsInUrl = /^https?:\/\/[^\s/]*@/

export const ClickHouseConfig: Config.Config<ClickHouseConfig> = Config.all({
  mode: InfraMode,
  home: HomeDir,
  url: Config.string("CLICKHOUSE_URL").pipe(
    Config.validate({
      message:
        "CLICKHOUSE_URL: expected an http(s) URL such as http://127.0.0.1:8123 (or empty for the embedded engine)",
      validation: (u) => u === "" || /^https?:\/\/[^\s/]+(\/.*)?$/.test(u),
    }),
    Config.validate({
      message:
        "CLICKHOUSE_URL: put the user and password in CLICKHOUSE_USER and CLICKHOUSE_PASSWORD, not in the URL (the URL is printed)",
      validation: (u) => !credentialsInUrl.test(u),
    }),
    Config.withDefault(""),
  ),
  dataPath: Config.string("CLICKHOUSE_DATA_PATH").pipe(Config.withDefault(".data/chdb")),
  database: Config.string("CLICKHOUSE_DATABASE").pipe(Config.withDefault("default")),
  username: Config.string("CLICKHOUSE_USER").pipe(Config.withDefault("default")),
  password: Config.redacted("CLICKHOUSE_PASSWORD").pipe(Config.withDefault(Redacted.make(""))),
  caFile: Config.string("CLICKHOUSE_CA_FILE").pipe(Config.withDefault("")),
}).pipe(
  Config.mapOrFail((c): Either.Either<ClickHouseConfig, ConfigError.ConfigError> => {
    const invalid = (message: string) => Either.left(ConfigError.InvalidData([], message))
    const url = c.url !== "" ? c.url : c.mode === "docker" ? "http://127.0.0.1:8123" : ""
    const caFile = c.caFile.trim()
    if (url === "")
      return caFile === ""
        ? Either.right({ _tag: "Embedded", dataPath: path.resolve(c.home, c.dataPath), database: c.database })
        : invalid(
            "CLICKHOUSE_CA_FILE is set but there is no CLICKHOUSE_URL: set an https:// URL, or unset it",
          )
    const http = {
      _tag: "Http",
      url,
      database: c.database,
      username: c.username,
      password: c.password,
    } as const
    if (caFile === "") return Either.right(http)
    if (!url.startsWith("https://"))
      return invalid("CLICKHOUSE_CA_FILE is set but CLICKHOUSE_URL is not https://: use https, or unset it")
    const file = path.resolve(c.home, caFile)
    return Either.match(readCertificates("CLICKHOUSE_CA_FILE", file), {
      onLeft: invalid,
      onRight: (pem) => Either.right({ ...http, ca: { file, pem } }),
    })
  }),
)

/** What a message may hold (json-limits.ts); the processor and the reprocessor decide alike. */
export const DecodeLimitsConfig: Config.Config<DecodeLimits> = Config.all({
  maxMessageBytes: positiveInt("MESSAGE_MAX_BYTES", defaultDecodeLimits.maxMessageBytes),
  maxPropertiesBytes: positiveInt("PROPERTIES_MAX_BYTES", defaultDecodeLimits.maxPropertiesBytes),
  maxPropertiesDepth: positiveInt("PROPERTIES_MAX_DEPTH", defaultDecodeLimits.maxPropertiesDepth),
})

/** When refusing records means something upstream is broken (@rtoa/pipeline's dead-letter-policy.ts). */
export interface DeadLetterLimits {
  /** Stop when more than this share of the last `ratioWindow` records was refused (1 = never). */
  readonly maxRatio: number
  readonly ratioWindow: number
  /** Stop after this many refused records in a row (0 = never). */
  readonly maxConsecutive: number
  /** Dead-letter payloads larger than this are truncated (size and hash in headers). */
  readonly maxPayloadBytes: number
}

export const DeadLetterLimitsConfig: Config.Config<DeadLetterLimits> = Config.all({
  maxRatio: ratio("DLQ_MAX_RATIO", 0.5),
  ratioWindow: positiveInt("DLQ_RATIO_WINDOW", 10_000),
  maxConsecutive: nonNegativeInt("DLQ_MAX_CONSECUTIVE", 0),
  maxPayloadBytes: positiveInt("DLQ_MAX_PAYLOAD_BYTES", 64 * 1024),
})

export interface ProcessorConfig {
  readonly batchMaxRows: number
  readonly batchMaxWait: Duration.Duration
  readonly queueCapacity: number
  readonly fetchMaxBytesPerPartition: number
  /** The broker answers a fetch once it has this many bytes, or after fetchMaxWait. */
  readonly fetchMinBytes: number
  readonly fetchMaxWait: Duration.Duration
  readonly maxClockSkew: Duration.Duration
  readonly shutdownTimeout: Duration.Duration
  readonly consumers: number
  readonly consumerStagger: Duration.Duration
  readonly sessionTimeout: Duration.Duration
  /** No commit for this long while records wait: the processor reports itself stalled. */
  readonly stallTimeout: Duration.Duration
}

export const ProcessorConfig: Config.Config<ProcessorConfig> = Config.all({
  // Only a backlog fills a batch (10,000 events/s makes ~2,000 in 200 ms): bigger batches there mean
  // fewer parts to write and merge. Draining, 30,000 vs 10,000: 64,128 / 60,597 vs 54,087 / 39,446
  // events/s in two alternating pairs, peak RSS 1,150 vs 1,176 MB (bench --drain-only).
  batchMaxRows: positiveInt("BATCH_MAX_ROWS", 30_000),
  batchMaxWait: millis("BATCH_MAX_WAIT_MS", 200),
  queueCapacity: positiveInt("SOURCE_QUEUE_CAPACITY", 16),
  fetchMaxBytesPerPartition: positiveInt("SOURCE_FETCH_MAX_BYTES_PER_PARTITION", 1024 * 1024),
  fetchMinBytes: positiveInt("SOURCE_FETCH_MIN_BYTES", 1),
  fetchMaxWait: millis("SOURCE_FETCH_MAX_WAIT_MS", 250),
  maxClockSkew: millis("MAX_CLOCK_SKEW_MS", 5 * 60_000),
  shutdownTimeout: millis("SHUTDOWN_TIMEOUT_MS", 15_000),
  consumers: positiveInt("PROCESSOR_CONSUMERS", 1),
  consumerStagger: millis("PROCESSOR_CONSUMER_STAGGER_MS", 0),
  // How long the group waits for a member that stopped heartbeating (e.g. a crashed processor)
  // before handing its partitions to the others. The broker accepts 6 s to 30 min by default.
  sessionTimeout: millis("KAFKA_SESSION_TIMEOUT_MS", 10_000),
  stallTimeout: millis("STALL_TIMEOUT_MS", 30_000),
})

export interface ProducerConfig {
  readonly rate: number
  readonly total: number | undefined
  readonly users: number
  readonly duplicateRatio: number
  readonly malformedRatio: number
  readonly poisonRatio: number
  readonly seed: number
  /** Codec of every batch sent; consumers built on core read all of them. */
  readonly compression: KafkaCompression
}

export const ProducerConfig: Config.Config<ProducerConfig> = Config.all({
  rate: positiveInt("PRODUCER_RATE", 10),
  total: Config.option(
    Config.integer("PRODUCER_TOTAL").pipe(
      Config.validate({ message: "PRODUCER_TOTAL: expected a positive integer", validation: (n) => n > 0 }),
    ),
  ).pipe(Config.map((o) => (o._tag === "Some" ? o.value : undefined))),
  users: positiveInt("PRODUCER_USERS", 5_000),
  duplicateRatio: ratio("PRODUCER_DUPLICATE_RATIO", 0),
  malformedRatio: ratio("PRODUCER_MALFORMED_RATIO", 0),
  poisonRatio: ratio("PRODUCER_POISON_RATIO", 0),
  seed: Config.integer("PRODUCER_SEED").pipe(Config.withDefault(Date.now() % 2 ** 31)),
  compression: Config.literal(...kafkaCompressions)("PRODUCER_COMPRESSION").pipe(Config.withDefault("none")),
})
