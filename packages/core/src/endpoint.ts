import { createHash, createHmac, randomBytes, timingSafeEqual } from "node:crypto"
import * as fs from "node:fs"
import * as path from "node:path"
import { Config, Effect, Redacted } from "effect"
import { HomeDir } from "./config.ts"

/**
 * The processor's operator endpoint (HTTP: /health, /ready, /metrics, /query), closed by default:
 * a bearer token always (generated on first start and kept with mode 0600 when none is set), the
 * Host and Origin of every request checked (no DNS rebinding, no cross-site POST from a browser),
 * and limits on what one request may cost. One definition, read by the processor and its clients.
 */

export interface QueryLimits {
  /** Per query, enforced by the engine: max_execution_time, max_result_rows/bytes, max_memory_usage, max_threads. */
  readonly timeoutSeconds: number
  readonly maxRows: number
  readonly maxResultBytes: number
  readonly maxMemoryBytes: number
  readonly maxThreads: number
  /** Per endpoint: queries running at once (more get 429) and the request body size (more gets 413). */
  readonly maxConcurrent: number
  readonly maxBodyBytes: number
}

export interface EndpointConfig {
  readonly host: string
  readonly port: number
  /** PROCESSOR_HTTP_TOKEN, or undefined to use (and create) the token file. */
  readonly token: Redacted.Redacted | undefined
  readonly tokenFile: string
  /** Host names a request may address (Host header) and come from (Origin header). */
  readonly allowedHosts: ReadonlyArray<string>
  readonly limits: QueryLimits
}

const positive = (name: string, fallback: number) =>
  Config.integer(name).pipe(
    Config.withDefault(fallback),
    Config.validate({ message: `${name}: expected a positive integer`, validation: (n) => n > 0 }),
  )

export const QueryLimitsConfig: Config.Config<QueryLimits> = Config.all({
  timeoutSeconds: positive("QUERY_TIMEOUT_SECONDS", 10),
  maxRows: positive("QUERY_MAX_ROWS", 10_000),
  maxResultBytes: positive("QUERY_MAX_RESULT_BYTES", 16 * 1024 * 1024),
  maxMemoryBytes: positive("QUERY_MAX_MEMORY_BYTES", 512 * 1024 * 1024),
  maxThreads: positive("QUERY_MAX_THREADS", 1),
  maxConcurrent: positive("QUERY_MAX_CONCURRENT", 2),
  maxBodyBytes: positive("QUERY_MAX_BODY_BYTES", 64 * 1024),
})

export const EndpointConfig: Config.Config<EndpointConfig> = Config.all({
  host: Config.string("PROCESSOR_HTTP_HOST").pipe(Config.withDefault("127.0.0.1")),
  port: Config.port("PROCESSOR_HTTP_PORT").pipe(Config.withDefault(8124)),
  token: Config.option(Config.redacted("PROCESSOR_HTTP_TOKEN")).pipe(
    Config.map((o) => (o._tag === "Some" && Redacted.value(o.value) !== "" ? o.value : undefined)),
  ),
  home: HomeDir,
  dataDir: Config.string("DATA_DIR").pipe(Config.withDefault(".data")),
  tokenFile: Config.string("PROCESSOR_HTTP_TOKEN_FILE").pipe(Config.withDefault("")),
  allowedHosts: Config.string("PROCESSOR_HTTP_ALLOWED_HOSTS").pipe(Config.withDefault("")),
  limits: QueryLimitsConfig,
}).pipe(
  Config.map(({ home, dataDir, tokenFile, allowedHosts, ...c }) => ({
    ...c,
    tokenFile: path.resolve(home, tokenFile !== "" ? tokenFile : path.join(dataDir, "processor-http.token")),
    allowedHosts: [
      ...new Set(
        ["127.0.0.1", "localhost", "[::1]", c.host, ...allowedHosts.split(",")]
          .map((h) => h.trim().toLowerCase())
          .filter((h) => h !== "" && h !== "0.0.0.0" && h !== "::"),
      ),
    ],
  })),
)

const readToken = (file: string): string | undefined => {
  try {
    const text = fs.readFileSync(file, "utf8").trim()
    return text === "" ? undefined : text
  } catch {
    return undefined
  }
}

/**
 * The endpoint's token: PROCESSOR_HTTP_TOKEN, else the token file, created on first start (32
 * random bytes, mode 0600, created exclusively so two starts never disagree).
 */
export const ensureEndpointToken = (config: EndpointConfig) =>
  Effect.try({
    try: (): Redacted.Redacted => {
      if (config.token !== undefined) return config.token
      const existing = readToken(config.tokenFile)
      if (existing !== undefined) return Redacted.make(existing)
      fs.mkdirSync(path.dirname(config.tokenFile), { recursive: true, mode: 0o700 })
      try {
        fs.writeFileSync(config.tokenFile, `${randomBytes(32).toString("base64url")}\n`, {
          mode: 0o600,
          flag: "wx",
        })
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e
      }
      const made = readToken(config.tokenFile)
      if (made === undefined) throw new Error("the token file is empty")
      return Redacted.make(made)
    },
    catch: (e) =>
      new Error(`cannot create the endpoint token file ${config.tokenFile}: ${(e as Error).message}`),
  })

/** The token a client should send: PROCESSOR_HTTP_TOKEN, or the processor's token file if it exists. */
export const clientEndpointToken = (config: EndpointConfig): string | undefined =>
  config.token !== undefined ? Redacted.value(config.token) : readToken(config.tokenFile)

const digest = (text: string) => createHash("sha256").update(text).digest()

/** A secret someone gave is the token, checked in constant time (equal-length digests). */
export const tokenMatches = (given: string, token: Redacted.Redacted): boolean =>
  timingSafeEqual(digest(given), digest(Redacted.value(token))) && given !== ""

/** `Authorization: Bearer <token>` checked in constant time. */
export const bearerMatches = (authorization: string | undefined, token: Redacted.Redacted): boolean =>
  tokenMatches(/^Bearer (.+)$/.exec(authorization ?? "")?.[1] ?? "", token)

/** The request addresses this endpoint by an allowed name and its own port (no DNS rebinding). */
export const hostAllowed = (
  host: string | undefined,
  config: Pick<EndpointConfig, "allowedHosts" | "port">,
) => {
  if (host === undefined) return false
  const m = /^(\[[0-9a-f:.]+\]|[^:]+)(?::(\d+))?$/i.exec(host.trim().toLowerCase())
  return m !== null && config.allowedHosts.includes(m[1] ?? "") && Number(m[2] ?? 80) === config.port
}

/** No Origin (not a browser, or same-origin GET), or this endpoint's own origin. */
export const originAllowed = (
  origin: string | undefined,
  config: Pick<EndpointConfig, "allowedHosts" | "port">,
) => {
  if (origin === undefined) return true
  try {
    const url = new URL(origin)
    return url.protocol === "http:" && hostAllowed(url.host, config)
  } catch {
    return false
  }
}

/**
 * The console's session cookie: derived from the token (an HMAC), so it is stable across restarts
 * and useless anywhere else; HttpOnly and SameSite=Strict (with the Origin check: no cross-site use).
 */
const SESSION_COOKIE = "rtoa_session"

const sessionValue = (token: Redacted.Redacted): string =>
  createHmac("sha256", Redacted.value(token)).update("rtoa-console-session").digest("base64url")

export const sessionCookie = (token: Redacted.Redacted): string =>
  `${SESSION_COOKIE}=${sessionValue(token)}; Path=/; HttpOnly; SameSite=Strict`

/** The request's session cookie matches, compared in constant time. */
export const sessionMatches = (cookieHeader: string | undefined, token: Redacted.Redacted): boolean => {
  const given =
    (cookieHeader ?? "")
      .split(";")
      .map((c) => c.trim())
      .find((c) => c.startsWith(`${SESSION_COOKIE}=`))
      ?.slice(SESSION_COOKIE.length + 1) ?? ""
  return timingSafeEqual(digest(given), digest(sessionValue(token))) && given !== ""
}
