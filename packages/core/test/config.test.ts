import * as fs from "node:fs"
import * as path from "node:path"
import { inspect } from "node:util"
import { describe, expect, it } from "@effect/vitest"
import { ConfigProvider, Effect, Either, Redacted } from "effect"
import { ClickHouseConfig, KafkaConfig, ProcessorConfig, ProducerConfig } from "../src/config.ts"
import { EndpointConfig } from "../src/endpoint.ts"
import { configProviderFromEnv } from "../src/env.ts"

const load = <A, E>(config: Effect.Effect<A, E>, env: Record<string, string>) =>
  Effect.withConfigProvider(
    config,
    ConfigProvider.fromMap(new Map(Object.entries({ RTOA_HOME: "/srv/rtoa", ...env }))),
  )

const failure = <A, E>(config: Effect.Effect<A, E>, env: Record<string, string>) =>
  Effect.map(Effect.either(load(config, env)), (r) => (Either.isLeft(r) ? String(r.left) : "no error"))

describe("config", () => {
  it.effect("defaults to local mode: embedded ClickHouse under the home directory, broker on 19092", () =>
    Effect.gen(function* () {
      const ch = yield* load(ClickHouseConfig, {})
      expect(ch).toEqual({ _tag: "Embedded", dataPath: "/srv/rtoa/.data/chdb", database: "default" })
      const kafka = yield* load(KafkaConfig, {})
      expect(kafka.brokers).toEqual(["127.0.0.1:19092"])
      expect(kafka.topic).toBe("events")
      expect(kafka.dlqTopic).toBe("events_dlq")
    }),
  )

  it.effect("docker mode (or a CLICKHOUSE_URL) talks HTTP to a server", () =>
    Effect.gen(function* () {
      const docker = yield* load(ClickHouseConfig, { INFRA_MODE: "docker", CLICKHOUSE_PASSWORD: "s3cret" })
      expect(docker._tag).toBe("Http")
      if (docker._tag === "Http") {
        expect(docker.url).toBe("http://127.0.0.1:8123")
        expect(Redacted.value(docker.password)).toBe("s3cret")
        expect(String(docker.password)).not.toContain("s3cret")
      }
      const url = yield* load(ClickHouseConfig, { CLICKHOUSE_URL: "http://ch.internal:8123" })
      expect(url).toMatchObject({ _tag: "Http", url: "http://ch.internal:8123" })
    }),
  )

  it.effect("https with a user, a password and a private CA (CLICKHOUSE_CA_FILE)", () =>
    Effect.gen(function* () {
      const caFile = path.join(import.meta.dirname, "fixtures/test-ca.pem")
      const env = {
        CLICKHOUSE_URL: "https://ch.internal:8443",
        CLICKHOUSE_USER: "rtoa_writer",
        CLICKHOUSE_PASSWORD: "ch-S3cret-pw",
        CLICKHOUSE_CA_FILE: caFile,
      }
      const ch = yield* load(ClickHouseConfig, env)
      expect(ch).toMatchObject({ _tag: "Http", url: "https://ch.internal:8443", username: "rtoa_writer" })
      if (ch._tag !== "Http") throw new Error("expected Http")
      expect(ch.ca).toEqual({ file: caFile, pem: fs.readFileSync(caFile, "utf8").trim() })
      expect(Redacted.value(ch.password)).toBe("ch-S3cret-pw")
      for (const shown of [String(ch), inspect(ch, { depth: 9 }), JSON.stringify(ch)])
        expect(shown).not.toContain("ch-S3cret-pw")
      const noCa = yield* load(ClickHouseConfig, { ...env, CLICKHOUSE_CA_FILE: "" })
      expect(noCa).not.toHaveProperty("ca")

      const bad = (extra: Record<string, string>) =>
        Effect.map(failure(ClickHouseConfig, { ...env, ...extra }), (message) => {
          expect(message).not.toContain("ch-S3cret-pw")
          return message
        })
      expect(yield* bad({ CLICKHOUSE_URL: "http://ch.internal:8123" })).toMatch(
        /CLICKHOUSE_CA_FILE is set but CLICKHOUSE_URL is not https/,
      )
      expect(yield* bad({ CLICKHOUSE_URL: "" })).toMatch(
        /CLICKHOUSE_CA_FILE is set but there is no CLICKHOUSE_URL/,
      )
      expect(yield* bad({ CLICKHOUSE_CA_FILE: "/nonexistent/ca.pem" })).toMatch(
        /CLICKHOUSE_CA_FILE: cannot read \/nonexistent\/ca.pem \(ENOENT\)/,
      )
      expect(yield* bad({ CLICKHOUSE_CA_FILE: import.meta.filename })).toMatch(
        /CLICKHOUSE_CA_FILE: .* holds no PEM certificate/,
      )
      // Credentials in the URL would be printed with it (ddl, chclient): refused, without echoing them.
      expect(yield* bad({ CLICKHOUSE_URL: "https://rtoa_writer:ch-S3cret-pw@ch.internal:8443" })).toMatch(
        /CLICKHOUSE_URL: put the user and password in CLICKHOUSE_USER and CLICKHOUSE_PASSWORD/,
      )
    }),
  )

  it.effect("a bad value names its variable and the accepted form", () =>
    Effect.gen(function* () {
      expect(yield* failure(ClickHouseConfig, { INFRA_MODE: "k8s" })).toMatch(/INFRA_MODE.*local, docker/)
      expect(yield* failure(KafkaConfig, { KAFKA_BROKERS: "localhost" })).toMatch(/KAFKA_BROKERS.*host:port/)
      expect(yield* failure(ProcessorConfig, { BATCH_MAX_ROWS: "0" })).toMatch(
        /BATCH_MAX_ROWS.*positive integer/,
      )
      expect(yield* failure(ProcessorConfig, { BATCH_MAX_WAIT_MS: "soon" })).toMatch(/BATCH_MAX_WAIT_MS/)
      // The endpoint settings have their own Config (endpoint.ts).
      expect(yield* failure(EndpointConfig, { PROCESSOR_HTTP_PORT: "99999" })).toMatch(/PROCESSOR_HTTP_PORT/)
      expect(yield* failure(ProducerConfig, { PRODUCER_DUPLICATE_RATIO: "1.5" })).toMatch(
        /PRODUCER_DUPLICATE_RATIO.*between 0 and 1/,
      )
      expect(yield* failure(ClickHouseConfig, { CLICKHOUSE_URL: "ch:8123" })).toMatch(/CLICKHOUSE_URL.*http/)
      expect(yield* failure(ProducerConfig, { PRODUCER_COMPRESSION: "brotli" })).toMatch(
        /PRODUCER_COMPRESSION.*none, gzip, snappy, lz4, zstd/,
      )
    }),
  )

  it.effect("producer compression: none by default, any Kafka codec by PRODUCER_COMPRESSION", () =>
    Effect.gen(function* () {
      expect((yield* load(ProducerConfig, {})).compression).toBe("none")
      expect((yield* load(ProducerConfig, { PRODUCER_COMPRESSION: "zstd" })).compression).toBe("zstd")
    }),
  )

  it.effect("reads .env under the process environment, which wins", () =>
    Effect.gen(function* () {
      const fs = yield* Effect.promise(() => import("node:fs"))
      const os = yield* Effect.promise(() => import("node:os"))
      const path = yield* Effect.promise(() => import("node:path"))
      const root = fs.mkdtempSync(path.join(os.tmpdir(), "rtoa-env-"))
      fs.writeFileSync(path.join(root, ".env"), "KAFKA_TOPIC=from_file\nKAFKA_DLQ_TOPIC=dlq_file\n")
      const provider = configProviderFromEnv({ KAFKA_TOPIC: "from_env" }, root)
      const kafka = yield* Effect.withConfigProvider(KafkaConfig, provider)
      expect(kafka.topic).toBe("from_env")
      expect(kafka.dlqTopic).toBe("dlq_file")
    }),
  )
})
