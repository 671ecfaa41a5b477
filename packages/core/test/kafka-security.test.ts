import * as crypto from "node:crypto"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { inspect } from "node:util"
import { describe, expect, it } from "@effect/vitest"
import { ConfigProvider, Effect, Either, Redacted } from "effect"
import { KafkaConfig } from "../src/config.ts"
import { configProviderFromEnv } from "../src/env.ts"
import { makeKafka } from "../src/kafka.ts"
import {
  kafkajsSecurityOptions,
  securityHint,
  securityWarnings,
  tidyTlsMessage,
} from "../src/kafka-security.ts"

const password = "hunter2-Sup3r-s3cret"
const dir = fs.mkdtempSync(path.join(os.tmpdir(), "rtoa-kafka-security-"))
const fixtureCa = path.join(import.meta.dirname, "fixtures/test-ca.pem")
const file = (name: string, text: string) => {
  const p = path.join(dir, name)
  fs.writeFileSync(p, text)
  return p
}
// A key that belongs to no certificate here (the fixture CA's own key was never kept).
const strayKey = file(
  "stray.key",
  crypto
    .generateKeyPairSync("ec", { namedCurve: "prime256v1" })
    .privateKey.export({ type: "pkcs8", format: "pem" })
    .toString(),
)

const load = (env: Record<string, string>) =>
  Effect.withConfigProvider(
    KafkaConfig,
    ConfigProvider.fromMap(new Map(Object.entries({ RTOA_HOME: dir, ...env }))),
  )

/** The start-up error for `env`, which must not contain the password whatever it says. */
const failure = (env: Record<string, string>) =>
  Effect.map(Effect.either(load({ KAFKA_SASL_PASSWORD: password, ...env })), (r) => {
    const message = Either.isLeft(r) ? String(r.left) : "no error"
    expect(message).not.toContain(password)
    return message
  })

const sasl = {
  KAFKA_SECURITY_PROTOCOL: "SASL_SSL",
  KAFKA_SASL_MECHANISM: "SCRAM-SHA-512",
  KAFKA_SASL_USERNAME: "rtoa",
  KAFKA_SASL_PASSWORD: password,
  KAFKA_SSL_CA_FILE: fixtureCa,
}

describe("Kafka security config", () => {
  it.effect("defaults to PLAINTEXT: kafkajs gets neither ssl nor sasl", () =>
    Effect.gen(function* () {
      const config = yield* load({})
      expect(config.security).toEqual({ protocol: "PLAINTEXT" })
      expect(kafkajsSecurityOptions({ protocol: "PLAINTEXT" })).toEqual({})
    }),
  )

  it.effect("SASL_SSL: credentials, the CA's certificates, and a password that never prints", () =>
    Effect.gen(function* () {
      const config = yield* load(sasl)
      const security = config.security
      if (security?.protocol !== "SASL_SSL") throw new Error(`unexpected ${security?.protocol}`)
      expect(security.sasl).toMatchObject({ mechanism: "SCRAM-SHA-512", username: "rtoa" })
      expect(Redacted.value(security.sasl.password)).toBe(password)
      expect(security.tls.ca?.file).toBe(fixtureCa)
      expect(security.tls.rejectUnauthorized).toBe(true)
      for (const shown of [String(config), inspect(config, { depth: 9 }), JSON.stringify(config)])
        expect(shown).not.toContain(password)
      const options = kafkajsSecurityOptions(security)
      expect(options.sasl).toEqual({ mechanism: "scram-sha-512", username: "rtoa", password })
      expect(options.ssl).toEqual({ ca: fs.readFileSync(fixtureCa, "utf8").trim(), rejectUnauthorized: true })
    }),
  )

  it.effect("names are case-insensitive, relative files resolve against RTOA_HOME, empty means unset", () =>
    Effect.gen(function* () {
      fs.copyFileSync(fixtureCa, path.join(dir, "ca.pem"))
      const config = yield* load({
        ...sasl,
        KAFKA_SECURITY_PROTOCOL: "sasl_ssl",
        KAFKA_SASL_MECHANISM: "plain",
        KAFKA_SSL_CA_FILE: "ca.pem",
        KAFKA_SSL_CERT_FILE: "",
        KAFKA_SSL_KEY_FILE: "",
      })
      expect(config.security).toMatchObject({
        protocol: "SASL_SSL",
        sasl: { mechanism: "PLAIN" },
        tls: { ca: { file: path.join(dir, "ca.pem") } },
      })
      const plain = yield* load({
        KAFKA_SECURITY_PROTOCOL: "",
        KAFKA_SASL_USERNAME: "",
        KAFKA_SSL_CA_FILE: "",
      })
      expect(plain.security).toEqual({ protocol: "PLAINTEXT" })
    }),
  )

  it.effect("SSL without a CA file trusts Node's bundled roots; SASL_PLAINTEXT has no TLS part", () =>
    Effect.gen(function* () {
      const ssl = yield* load({ KAFKA_SECURITY_PROTOCOL: "SSL" })
      expect(ssl.security).toEqual({ protocol: "SSL", tls: { rejectUnauthorized: true } })
      const saslPlain = yield* load({
        ...sasl,
        KAFKA_SECURITY_PROTOCOL: "SASL_PLAINTEXT",
        KAFKA_SSL_CA_FILE: "",
      })
      expect(saslPlain.security?.protocol).toBe("SASL_PLAINTEXT")
      expect(saslPlain.security && "tls" in saslPlain.security).toBe(false)
    }),
  )

  it.effect("a bad value or combination names the variable and the accepted form, never the password", () =>
    Effect.gen(function* () {
      const cases: ReadonlyArray<readonly [Record<string, string>, RegExp]> = [
        [
          { KAFKA_SECURITY_PROTOCOL: "TLS" },
          /KAFKA_SECURITY_PROTOCOL: expected one of PLAINTEXT, SSL, SASL_PLAINTEXT, SASL_SSL/,
        ],
        [
          { ...sasl, KAFKA_SASL_MECHANISM: "GSSAPI" },
          /KAFKA_SASL_MECHANISM: expected one of PLAIN, SCRAM-SHA-256, SCRAM-SHA-512/,
        ],
        [
          { ...sasl, KAFKA_SASL_USERNAME: "" },
          /KAFKA_SASL_USERNAME: required with KAFKA_SECURITY_PROTOCOL=SASL_SSL/,
        ],
        [
          { ...sasl, KAFKA_SASL_PASSWORD: "" },
          /KAFKA_SASL_PASSWORD: required with KAFKA_SECURITY_PROTOCOL=SASL_SSL/,
        ],
        [
          { KAFKA_SASL_USERNAME: "rtoa" },
          /KAFKA_SASL_USERNAME is set but KAFKA_SECURITY_PROTOCOL=PLAINTEXT sends no credentials/,
        ],
        [{}, /KAFKA_SASL_PASSWORD is set but KAFKA_SECURITY_PROTOCOL=PLAINTEXT/],
        [
          { ...sasl, KAFKA_SECURITY_PROTOCOL: "SASL_PLAINTEXT" },
          /KAFKA_SSL_CA_FILE is set but KAFKA_SECURITY_PROTOCOL=SASL_PLAINTEXT does not use TLS/,
        ],
        [
          { KAFKA_SASL_PASSWORD: "", KAFKA_SSL_REJECT_UNAUTHORIZED: "false" },
          /KAFKA_SSL_REJECT_UNAUTHORIZED is set but KAFKA_SECURITY_PROTOCOL=PLAINTEXT does not use TLS/,
        ],
        [{ ...sasl, KAFKA_SSL_REJECT_UNAUTHORIZED: "maybe" }, /KAFKA_SSL_REJECT_UNAUTHORIZED/],
        [{ ...sasl, KAFKA_SSL_CERT_FILE: fixtureCa }, /KAFKA_SSL_CERT_FILE and KAFKA_SSL_KEY_FILE: set both/],
        [
          { ...sasl, KAFKA_SSL_CA_FILE: "/nonexistent/ca.pem" },
          /KAFKA_SSL_CA_FILE: cannot read \/nonexistent\/ca.pem \(ENOENT\)/,
        ],
        [{ ...sasl, KAFKA_SSL_CA_FILE: dir }, /KAFKA_SSL_CA_FILE: cannot read .* \(EISDIR\)/],
        [
          { ...sasl, KAFKA_SSL_CA_FILE: file("notes.txt", `token=${password}\n`) },
          /KAFKA_SSL_CA_FILE: .*notes.txt holds no PEM certificate/,
        ],
        [
          {
            ...sasl,
            KAFKA_SSL_CA_FILE: file(
              "bad.pem",
              "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
            ),
          },
          /KAFKA_SSL_CA_FILE: certificate 1 in .*bad.pem is not a valid X.509 certificate/,
        ],
        [
          { ...sasl, KAFKA_SSL_CERT_FILE: fixtureCa, KAFKA_SSL_KEY_FILE: file("key.txt", password) },
          /KAFKA_SSL_KEY_FILE: .*key.txt holds no unencrypted PEM private key/,
        ],
        [
          { ...sasl, KAFKA_SSL_CERT_FILE: fixtureCa, KAFKA_SSL_KEY_FILE: strayKey },
          /KAFKA_SSL_KEY_FILE: the key in .*stray.key does not belong to the certificate in KAFKA_SSL_CERT_FILE/,
        ],
      ]
      for (const [env, expected] of cases) expect(yield* failure(env)).toMatch(expected)
    }),
  )

  it.effect("the environment path reads the settings from .env too, the environment winning", () =>
    Effect.gen(function* () {
      const root = fs.mkdtempSync(path.join(os.tmpdir(), "rtoa-env-security-"))
      fs.writeFileSync(
        path.join(root, ".env"),
        `KAFKA_SECURITY_PROTOCOL=SASL_SSL\nKAFKA_SASL_USERNAME=from-file\nKAFKA_SASL_PASSWORD=${password}\nKAFKA_SSL_CA_FILE=${fixtureCa}\n`,
      )
      const config = yield* Effect.withConfigProvider(
        KafkaConfig,
        configProviderFromEnv({ KAFKA_SASL_MECHANISM: "SCRAM-SHA-256" }, root),
      )
      expect(config.security).toMatchObject({ sasl: { username: "from-file", mechanism: "SCRAM-SHA-256" } })
    }),
  )
})

describe("Kafka security at run time", () => {
  it("KAFKA_SSL_REJECT_UNAUTHORIZED=false is said loudly, once per process", () => {
    const lines: Array<string> = []
    const original = process.stderr.write
    process.stderr.write = ((chunk: string) => lines.push(chunk) > 0) as typeof process.stderr.write
    try {
      const security = {
        protocol: "SASL_SSL",
        sasl: { mechanism: "PLAIN", username: "rtoa", password: Redacted.make(password) },
        tls: { rejectUnauthorized: false },
      } as const
      expect(securityWarnings(security)).toHaveLength(1)
      const config = { brokers: ["127.0.0.1:9093"], clientId: "t", topic: "t", dlqTopic: "d", groupId: "g" }
      makeKafka({ ...config, partitions: 1, security })
      makeKafka({ ...config, partitions: 1, security })
    } finally {
      process.stderr.write = original
    }
    expect(lines).toHaveLength(1)
    expect(lines[0]).toMatch(
      /WARNING: KAFKA_SSL_REJECT_UNAUTHORIZED=false: the broker's TLS certificate is NOT verified/,
    )
    expect(lines[0]).not.toContain(password)
  })

  it("SASL_PLAINTEXT with PLAIN warns that the password travels unencrypted", () => {
    const security = {
      protocol: "SASL_PLAINTEXT",
      sasl: { mechanism: "PLAIN", username: "u", password: Redacted.make(password) },
    } as const
    expect(securityWarnings(security).join()).toMatch(/sends the password unencrypted/)
  })

  it("failures caused by the security settings get a hint naming the variables", () => {
    expect(
      securityHint("SASL PLAIN authentication failed: Authentication failed: Invalid username or password"),
    ).toMatch(/KAFKA_SASL_USERNAME, KAFKA_SASL_PASSWORD and KAFKA_SASL_MECHANISM/)
    expect(securityHint("Connection error: self-signed certificate in certificate chain")).toMatch(
      /KAFKA_SSL_CA_FILE/,
    )
    expect(securityHint("Connection error: unable to get local issuer certificate")).toMatch(
      /KAFKA_SSL_CA_FILE/,
    )
    expect(securityHint("SASL SCRAM-SHA-256 mechanism is not supported by the server")).toMatch(
      /KAFKA_SASL_MECHANISM/,
    )
    expect(securityHint("Connection timeout")).toBeUndefined()
    expect(
      tidyTlsMessage(
        "Connection error: 40CD0E109E7F0000:error:0A000412:SSL routines:ssl3_read_bytes:ssl/tls alert bad certificate:../deps/openssl/openssl/ssl/record/rec_layer_s3.c:918:SSL alert number 42\n",
      ),
    ).toBe("Connection error: TLS ssl/tls alert bad certificate: SSL alert number 42")
  })
})
