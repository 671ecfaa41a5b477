import * as fs from "node:fs"
import * as path from "node:path"
import { expect, layer } from "@effect/vitest"
import { Context, Effect, Layer } from "effect"
import { type Kafka, Partitioners } from "kafkajs"
import { runCommand } from "../src/command.ts"
import { KafkaConfig } from "../src/config.ts"
import { configProviderFromEnv } from "../src/env.ts"
import type { KafkaError } from "../src/errors.ts"
import { ensureTopics, kafkaTry, makeKafka } from "../src/kafka.ts"
import { type KafkaSaslMechanism, kafkaSaslMechanisms } from "../src/kafka-security.ts"
import { nodeCommand, repoRoot, uniqueName } from "./support/it.ts"
import { type SecureBroker, secureBroker } from "./support/secure-broker.ts"

/**
 * Kafka security end to end on a broker of the test's own (support/secure-broker.ts): clients
 * are configured exactly as the programs are, from environment variables through KafkaConfig and
 * makeKafka. Each mechanism round-trips records over SASL_SSL; a wrong password and an untrusted
 * CA are refused with messages that say what to fix and carry no secret; the producer program
 * itself sends over SASL_SSL with nothing but environment variables.
 */

class Broker extends Context.Tag("test/SecureBroker")<Broker, SecureBroker>() {}

// Everything this process writes while the suite runs (kafkajs logs, warnings), so the last test
// can check that no password ever reached a log line. kafkajs logs every retry of the refusals
// this suite provokes on purpose; those are kept from the terminal (but checked all the same).
const written: Array<string> = []
const provoked = /^\[kafkajs error\].*(self-signed certificate|alert bad certificate|authentication failed)/
const captureOutput = Effect.acquireRelease(
  Effect.sync(() => {
    const original = { out: process.stdout.write, err: process.stderr.write }
    const tee =
      (write: typeof process.stdout.write, stream: NodeJS.WriteStream): typeof process.stdout.write =>
      (chunk: string | Uint8Array, ...rest: Array<never>) => {
        const text = typeof chunk === "string" ? chunk : Buffer.from(chunk).toString("utf8")
        written.push(text)
        return provoked.test(text) || write.call(stream, chunk, ...rest)
      }
    process.stdout.write = tee(original.out, process.stdout)
    process.stderr.write = tee(original.err, process.stderr)
    return original
  }),
  (original) =>
    Effect.sync(() => {
      process.stdout.write = original.out
      process.stderr.write = original.err
    }),
)

const BrokerLive = Layer.scoped(Broker, Effect.zipRight(captureOutput, secureBroker))

type Env = Record<string, string>

/** The variables a program would get to talk SASL_SSL to the test broker as `mechanism`'s user. */
const saslEnv = (b: SecureBroker, mechanism: KafkaSaslMechanism, topic: string, extra: Env = {}): Env => ({
  KAFKA_BROKERS: b.saslSsl,
  KAFKA_SECURITY_PROTOCOL: "SASL_SSL",
  KAFKA_SASL_MECHANISM: mechanism,
  KAFKA_SASL_USERNAME: b.users[mechanism].username,
  KAFKA_SASL_PASSWORD: b.users[mechanism].password,
  KAFKA_SSL_CA_FILE: b.pki.ca,
  KAFKA_TOPIC: topic,
  KAFKA_DLQ_TOPIC: `${topic}-dlq`,
  KAFKA_TOPIC_PARTITIONS: "1",
  ...extra,
})

/** The programs' path: variables -> configProviderFromEnv -> KafkaConfig -> makeKafka. */
const kafkaFromEnv = (b: SecureBroker, env: Env) =>
  Effect.map(Effect.withConfigProvider(KafkaConfig, configProviderFromEnv(env, b.pki.dir)), makeKafka)

const readValues = (kafka: Kafka, topic: string, expected: number) =>
  Effect.gen(function* () {
    const consumer = kafka.consumer({ groupId: uniqueName("security-group") })
    yield* Effect.acquireRelease(
      kafkaTry("consumer.connect", () => consumer.connect()),
      () => Effect.promise(() => consumer.disconnect()),
    )
    yield* kafkaTry("subscribe", () => consumer.subscribe({ topic, fromBeginning: true }))
    return yield* Effect.async<ReadonlyArray<string>>((resume) => {
      const got: Array<string> = []
      void consumer.run({
        eachMessage: async ({ message }) => {
          got.push(message.value?.toString() ?? "")
          if (got.length === expected) resume(Effect.succeed(got))
        },
      })
    }).pipe(Effect.timeout("45 seconds"))
  })

const roundTrip = (kafka: Kafka, topic: string, label: string) =>
  Effect.gen(function* () {
    yield* ensureTopics(kafka, [{ topic, partitions: 1 }])
    const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner })
    yield* Effect.acquireRelease(
      kafkaTry("producer.connect", () => producer.connect()),
      () => Effect.promise(() => producer.disconnect()),
    )
    const sent = Array.from({ length: 20 }, (_, i) => `${label}-${i}`)
    yield* kafkaTry("send", () =>
      producer.send({ topic, acks: -1, messages: sent.map((value) => ({ value })) }),
    )
    expect(yield* readValues(kafka, topic, sent.length)).toEqual(sent)
  })

const passwords = (b: SecureBroker) => Object.values(b.users).map((u) => u.password)

/** The failure of a first call to the broker, which must happen. */
const refusal = (kafka: Kafka) =>
  Effect.flip(
    ensureTopics(kafka, [{ topic: uniqueName("never"), partitions: 1 }]),
  ) as Effect.Effect<KafkaError>

const expectNoSecret = (text: string, secrets: ReadonlyArray<string>) => {
  for (const s of secrets) expect(text).not.toContain(s)
}

const concurrent = { concurrent: true, timeout: 120_000 }

layer(BrokerLive, { timeout: "120 seconds", excludeTestServices: true })("Kafka security", (it) => {
  for (const mechanism of kafkaSaslMechanisms) {
    it.scoped(
      `SASL_SSL with ${mechanism}: records round-trip through makeKafka configured from the environment`,
      () =>
        Effect.gen(function* () {
          const b = yield* Broker
          const topic = uniqueName(`sasl-${mechanism.toLowerCase()}`)
          yield* roundTrip(yield* kafkaFromEnv(b, saslEnv(b, mechanism, topic)), topic, mechanism)
        }),
      concurrent,
    )

    it.scoped(
      `SASL_SSL with ${mechanism}: a wrong password is refused, and the message says so without it`,
      () =>
        Effect.gen(function* () {
          const b = yield* Broker
          const wrong = `wrong-${b.users[mechanism].password}`
          const env = saslEnv(b, mechanism, uniqueName("wrong"), { KAFKA_SASL_PASSWORD: wrong })
          const error = yield* refusal(yield* kafkaFromEnv(b, env))
          expect(error.message).toMatch(/authentication failed/i)
          expect(error.message).toMatch(/check KAFKA_SASL_USERNAME, KAFKA_SASL_PASSWORD/)
          expectNoSecret(`${error.message} ${String(error)} ${String(error.cause)}`, [wrong, ...passwords(b)])
        }),
      concurrent,
    )
  }

  it.scoped(
    "a client that trusts another CA is refused before it authenticates",
    () =>
      Effect.gen(function* () {
        const b = yield* Broker
        const env = saslEnv(b, "SCRAM-SHA-256", uniqueName("untrusted"), { KAFKA_SSL_CA_FILE: b.pki.otherCa })
        const error = yield* refusal(yield* kafkaFromEnv(b, env))
        expect(error.message).toMatch(/self[- ]signed certificate|unable to (get local issuer|verify)/)
        expect(error.message).toMatch(/set KAFKA_SSL_CA_FILE to the PEM CA that signed it/)
        expectNoSecret(error.message, passwords(b))
      }),
    concurrent,
  )

  it.scoped(
    "mutual TLS: KAFKA_SSL_CERT_FILE and KAFKA_SSL_KEY_FILE get a client in where none without them may",
    () =>
      Effect.gen(function* () {
        const b = yield* Broker
        const topic = uniqueName("mtls")
        const base = { KAFKA_BROKERS: b.mtls, KAFKA_SECURITY_PROTOCOL: "SSL", KAFKA_SSL_CA_FILE: b.pki.ca }
        const withCert = {
          ...base,
          KAFKA_SSL_CERT_FILE: b.pki.clientCert,
          KAFKA_SSL_KEY_FILE: b.pki.clientKey,
        }
        yield* roundTrip(yield* kafkaFromEnv(b, withCert), topic, "mtls")
        const error = yield* refusal(yield* kafkaFromEnv(b, base))
        expect(error.message).toMatch(/alert bad certificate.*set KAFKA_SSL_CERT_FILE and KAFKA_SSL_KEY_FILE/)
      }),
    concurrent,
  )

  const producer = (env: Env, truth: string) =>
    runCommand(
      nodeCommand[0],
      [...nodeCommand.slice(1), path.join(repoRoot, "packages/producer/src/main.ts")].concat([
        "--total",
        "40",
        "--rate",
        "400",
        "--late",
        "0",
        "--seed",
        "7",
        "--truth",
        truth,
      ]),
      { ...process.env, ...env },
      "60 seconds",
    )

  it.scoped(
    "the producer program sends over SASL_SSL with nothing but environment variables",
    () =>
      Effect.gen(function* () {
        const b = yield* Broker
        const topic = uniqueName("producer-sasl")
        const env = saslEnv(b, "SCRAM-SHA-512", topic)
        const truth = path.join(b.pki.dir, `${topic}.truth`)
        const out = yield* producer(env, truth)
        expectNoSecret(out, passwords(b))
        const expected = fs
          .readFileSync(truth, "utf8")
          .trim()
          .split("\n")
          .map((line) => (JSON.parse(line) as { event_id: string }).event_id)
        const values = yield* readValues(yield* kafkaFromEnv(b, env), topic, 40)
        expect(values.map((v) => (JSON.parse(v) as { event_id: string }).event_id).sort()).toEqual(
          expected.sort(),
        )
      }),
    concurrent,
  )

  it.scoped(
    "the producer program with a wrong password exits 1 with a message that names the fix, not the password",
    () =>
      Effect.gen(function* () {
        const b = yield* Broker
        const wrong = `wrong-${b.users.PLAIN.password}`
        const env = saslEnv(b, "PLAIN", uniqueName("producer-wrong"), { KAFKA_SASL_PASSWORD: wrong })
        const failure = yield* Effect.flip(producer(env, path.join(b.pki.dir, "wrong.truth")))
        expect(failure.message).toMatch(/exited 1/)
        expect(failure.message).toMatch(
          /authentication failed.*check KAFKA_SASL_USERNAME, KAFKA_SASL_PASSWORD/,
        )
        expectNoSecret(failure.message, [wrong, ...passwords(b)])
      }),
    concurrent,
  )

  it.effect("no password appeared in anything this process wrote while the suite ran", () =>
    Effect.gen(function* () {
      const b = yield* Broker
      // The wrong passwords contain the right ones, so this covers them too.
      expectNoSecret(written.join(""), passwords(b))
    }),
  )
})
