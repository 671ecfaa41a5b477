import * as path from "node:path"
import type * as tls from "node:tls"
import { Config, ConfigError, Either, Redacted } from "effect"
import type { SASLOptions } from "kafkajs"
import { readCertificates, readPrivateKey } from "./pem.ts"

/**
 * How every Kafka client authenticates and encrypts (KAFKA_SECURITY_PROTOCOL and friends), with
 * Kafka's own names for protocols and mechanisms. Read once with the rest of KafkaConfig; files
 * are read then too, so a wrong path fails at start-up. Secrets stay Redacted until kafkajs gets
 * them in makeKafka.
 */

const kafkaSecurityProtocols = ["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] as const
export type KafkaSecurityProtocol = (typeof kafkaSecurityProtocols)[number]

export const kafkaSaslMechanisms = ["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"] as const
export type KafkaSaslMechanism = (typeof kafkaSaslMechanisms)[number]

export interface KafkaSasl {
  readonly mechanism: KafkaSaslMechanism
  readonly username: string
  readonly password: Redacted.Redacted
}

export interface KafkaTls {
  /** PEM CA certificates to trust instead of Node's bundled roots, and the file they came from. */
  readonly ca?: { readonly file: string; readonly pem: string }
  /** Client certificate and key for mutual TLS. */
  readonly cert?: string
  readonly key?: Redacted.Redacted
  readonly rejectUnauthorized: boolean
}

/** Which parts exist follows from the protocol, so a SASL protocol always has credentials. */
export type KafkaSecurity =
  | { readonly protocol: "PLAINTEXT" }
  | { readonly protocol: "SSL"; readonly tls: KafkaTls }
  | { readonly protocol: "SASL_PLAINTEXT"; readonly sasl: KafkaSasl }
  | { readonly protocol: "SASL_SSL"; readonly sasl: KafkaSasl; readonly tls: KafkaTls }

export const plaintext: KafkaSecurity = { protocol: "PLAINTEXT" }

/**
 * Environment that points a child program at a plaintext broker whatever `.env` says (an empty
 * variable overrides the file): for tools that run their own local broker (chaos, bench).
 */
export const kafkaPlaintextEnv: Readonly<Record<string, string>> = {
  KAFKA_SECURITY_PROTOCOL: "PLAINTEXT",
  KAFKA_SASL_MECHANISM: "",
  KAFKA_SASL_USERNAME: "",
  KAFKA_SASL_PASSWORD: "",
  KAFKA_SSL_CA_FILE: "",
  KAFKA_SSL_CERT_FILE: "",
  KAFKA_SSL_KEY_FILE: "",
  KAFKA_SSL_REJECT_UNAUTHORIZED: "true",
}

// Kafka's Java client reads the protocol case-insensitively; mechanisms are matched the same way
// here because kafkajs lower-cases them anyway.
const oneOf = <A extends string>(name: string, values: ReadonlyArray<A>, fallback: A) =>
  Config.string(name).pipe(
    Config.withDefault(""),
    Config.map((s) => s.trim().toUpperCase()),
    Config.validate({
      message: `${name}: expected one of ${values.join(", ")}`,
      validation: (s) => s === "" || (values as ReadonlyArray<string>).includes(s),
    }),
    Config.map((s) => (s === "" ? fallback : (s as A))),
  )

// An empty value (as .env_template writes them) means unset.
const optional = (name: string) =>
  Config.string(name).pipe(
    Config.withDefault(""),
    Config.map((s) => s.trim()),
  )

const raw = (home: Config.Config<string>) =>
  Config.all({
    home,
    protocol: oneOf("KAFKA_SECURITY_PROTOCOL", kafkaSecurityProtocols, "PLAINTEXT"),
    mechanism: oneOf("KAFKA_SASL_MECHANISM", kafkaSaslMechanisms, "PLAIN"),
    username: optional("KAFKA_SASL_USERNAME"),
    password: Config.redacted("KAFKA_SASL_PASSWORD").pipe(Config.withDefault(Redacted.make(""))),
    caFile: optional("KAFKA_SSL_CA_FILE"),
    certFile: optional("KAFKA_SSL_CERT_FILE"),
    keyFile: optional("KAFKA_SSL_KEY_FILE"),
    rejectUnauthorized: Config.boolean("KAFKA_SSL_REJECT_UNAUTHORIZED").pipe(Config.withDefault(true)),
  })
type Raw = Config.Config.Success<ReturnType<typeof raw>>

const usesSasl = (p: KafkaSecurityProtocol) => p === "SASL_PLAINTEXT" || p === "SASL_SSL"
const usesTls = (p: KafkaSecurityProtocol) => p === "SSL" || p === "SASL_SSL"

/** The first contradiction between the variables, as a message naming them and the fix. */
const contradiction = (r: Raw): string | undefined => {
  const protocol = `KAFKA_SECURITY_PROTOCOL=${r.protocol}`
  const password = Redacted.value(r.password) !== ""
  if (usesSasl(r.protocol)) {
    if (r.username === "")
      return `KAFKA_SASL_USERNAME: required with ${protocol} (the user the broker knows, e.g. KAFKA_SASL_USERNAME=rtoa)`
    if (!password) return `KAFKA_SASL_PASSWORD: required with ${protocol} (it is never printed)`
  } else if (r.username !== "" || password) {
    const which = r.username !== "" ? "KAFKA_SASL_USERNAME" : "KAFKA_SASL_PASSWORD"
    return `${which} is set but ${protocol} sends no credentials: set KAFKA_SECURITY_PROTOCOL to SASL_SSL (or SASL_PLAINTEXT), or unset ${which}`
  }
  if (!usesTls(r.protocol)) {
    const tlsOnly = [
      ["KAFKA_SSL_CA_FILE", r.caFile !== ""],
      ["KAFKA_SSL_CERT_FILE", r.certFile !== ""],
      ["KAFKA_SSL_KEY_FILE", r.keyFile !== ""],
      ["KAFKA_SSL_REJECT_UNAUTHORIZED", !r.rejectUnauthorized],
    ] as const
    const set = tlsOnly.find(([, isSet]) => isSet)
    if (set !== undefined)
      return `${set[0]} is set but ${protocol} does not use TLS: set KAFKA_SECURITY_PROTOCOL to SSL or SASL_SSL, or unset ${set[0]}`
  }
  if ((r.certFile === "") !== (r.keyFile === ""))
    return "KAFKA_SSL_CERT_FILE and KAFKA_SSL_KEY_FILE: set both (a client certificate and its key, for mutual TLS) or neither"
  return undefined
}

const readTls = (r: Raw): Either.Either<KafkaTls, string> => {
  const resolve = (file: string) => path.resolve(r.home, file)
  const ca =
    r.caFile === ""
      ? Either.right(undefined)
      : Either.map(readCertificates("KAFKA_SSL_CA_FILE", resolve(r.caFile)), (pem) => ({
          file: resolve(r.caFile),
          pem,
        }))
  const client =
    r.certFile === ""
      ? Either.right(undefined)
      : Either.flatMap(readCertificates("KAFKA_SSL_CERT_FILE", resolve(r.certFile)), (cert) =>
          Either.map(
            readPrivateKey("KAFKA_SSL_KEY_FILE", resolve(r.keyFile), {
              variable: "KAFKA_SSL_CERT_FILE",
              pem: cert,
            }),
            (key) => ({ cert, key: Redacted.make(key) }),
          ),
        )
  return Either.flatMap(ca, (ca) =>
    Either.map(client, (client) => ({
      ...(ca === undefined ? {} : { ca }),
      ...(client ?? {}),
      rejectUnauthorized: r.rejectUnauthorized,
    })),
  )
}

const decide = (r: Raw): Either.Either<KafkaSecurity, string> => {
  const problem = contradiction(r)
  if (problem !== undefined) return Either.left(problem)
  const sasl: KafkaSasl = { mechanism: r.mechanism, username: r.username, password: r.password }
  switch (r.protocol) {
    case "PLAINTEXT":
      return Either.right(plaintext)
    case "SASL_PLAINTEXT":
      return Either.right({ protocol: "SASL_PLAINTEXT", sasl })
    case "SSL":
      return Either.map(readTls(r), (tls) => ({ protocol: "SSL", tls }))
    case "SASL_SSL":
      return Either.map(readTls(r), (tls) => ({ protocol: "SASL_SSL", sasl, tls }))
  }
}

/** KAFKA_SECURITY_PROTOCOL and friends; `home` resolves relative file paths. */
export const kafkaSecurityConfig = (home: Config.Config<string>): Config.Config<KafkaSecurity> =>
  raw(home).pipe(
    Config.mapOrFail((r) => Either.mapLeft(decide(r), (message) => ConfigError.InvalidData([], message))),
  )

/** What an operator should hear about at start-up: settings that weaken the protection. */
export const securityWarnings = (security: KafkaSecurity): ReadonlyArray<string> => {
  const warnings: Array<string> = []
  if ("tls" in security && !security.tls.rejectUnauthorized)
    warnings.push(
      "KAFKA_SSL_REJECT_UNAUTHORIZED=false: the broker's TLS certificate is NOT verified; anyone on the network path can pose as the broker" +
        ("sasl" in security ? " and collect the SASL password" : ""),
    )
  if (security.protocol === "SASL_PLAINTEXT" && security.sasl.mechanism === "PLAIN")
    warnings.push(
      "KAFKA_SECURITY_PROTOCOL=SASL_PLAINTEXT with KAFKA_SASL_MECHANISM=PLAIN sends the password unencrypted; prefer SASL_SSL",
    )
  return warnings
}

const kafkajsMechanism = {
  PLAIN: "plain",
  "SCRAM-SHA-256": "scram-sha-256",
  "SCRAM-SHA-512": "scram-sha-512",
} as const

/** The `ssl` and `sasl` options of `new Kafka(...)`: the one place secrets are unwrapped. */
export const kafkajsSecurityOptions = (
  security: KafkaSecurity,
): { ssl?: tls.ConnectionOptions; sasl?: SASLOptions } => {
  const ssl =
    "tls" in security
      ? {
          ...(security.tls.ca === undefined ? {} : { ca: security.tls.ca.pem }),
          ...(security.tls.cert === undefined ? {} : { cert: security.tls.cert }),
          ...(security.tls.key === undefined ? {} : { key: Redacted.value(security.tls.key) }),
          rejectUnauthorized: security.tls.rejectUnauthorized,
        }
      : undefined
  const sasl: SASLOptions | undefined =
    "sasl" in security
      ? {
          mechanism: kafkajsMechanism[security.sasl.mechanism],
          username: security.sasl.username,
          password: Redacted.value(security.sasl.password),
        }
      : undefined
  return { ...(ssl === undefined ? {} : { ssl }), ...(sasl === undefined ? {} : { sasl }) }
}

/**
 * A hint for a failed Kafka call whose cause is the security settings, so the message says which
 * variable to look at. kafkajs's own messages carry no secrets; neither do these.
 */
export const securityHint = (message: string): string | undefined => {
  if (/SASL .*authentication failed|Invalid username or password/i.test(message))
    return "the broker refused the credentials: check KAFKA_SASL_USERNAME, KAFKA_SASL_PASSWORD and KAFKA_SASL_MECHANISM"
  if (/mechanism is not supported by the server/i.test(message))
    return "choose a KAFKA_SASL_MECHANISM the broker's listener enables"
  if (
    /self[- ]signed certificate|unable to (get local issuer|verify)|certificate has expired|certificate is not yet valid|does not match certificate's altnames|ERR_TLS_CERT_ALTNAME/i.test(
      message,
    )
  )
    return "the broker's TLS certificate is not trusted: set KAFKA_SSL_CA_FILE to the PEM CA that signed it, and connect by a name or IP the certificate lists"
  if (/alert (bad certificate|certificate required|unknown ca)|SSL alert number (42|48|116)/i.test(message))
    return "the broker refused this client's certificate: set KAFKA_SSL_CERT_FILE and KAFKA_SSL_KEY_FILE to a certificate its truststore accepts"
  return undefined
}

/** OpenSSL's raw error lines (`4057...:error:0A000412:SSL routines:fn:reason:file:line:...`) as their reason. */
export const tidyTlsMessage = (message: string): string =>
  message.replace(/[0-9A-F]{8,}:error:[0-9A-F]+:SSL routines:[^:]*:([^:]+):\S*:\d+:\s*/g, "TLS $1: ").trim()
