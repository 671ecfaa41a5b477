import { randomUUID } from "node:crypto"
import { HttpIncomingMessage, HttpServerRequest, HttpServerResponse } from "@effect/platform"
import {
  type ClickHouseError,
  ClickHouseReadOnly,
  type EndpointConfig,
  hostAllowed,
  originAllowed,
  publicMessage,
  ReadQueries,
  tokenMatches,
} from "@rtoa/core"
import { Effect, Option, type Redacted } from "effect"

/**
 * The ClickHouse HTTP interface (https://clickhouse.com/docs/interfaces/http) on the operator
 * endpoint, so standard clients (@clickhouse/client, clickhouse-connect, curl) can read the
 * embedded store: GET /ping, GET /?query=..., POST /. The rules are POST /query's (the engine-parser
 * guard, the read-only session and its limits, QUERY_MAX_CONCURRENT, QUERY_MAX_BODY_BYTES, Host and
 * Origin); auth and answers are ClickHouse's (basic auth or X-ClickHouse-User/Key with the token as
 * the password, X-ClickHouse-* headers, errors as `Code: N. DB::Exception: ...`).
 */

export interface ClickHouseHttpSettings {
  readonly endpoint: EndpointConfig
  readonly token: Redacted.Redacted
}

type Response = HttpServerResponse.HttpServerResponse
type Request = HttpServerRequest.HttpServerRequest
type Needs = ReadQueries | ClickHouseReadOnly

/** An error as ClickHouse reports it: its code, message and (if known) its name. */
interface Failure {
  readonly code: number
  readonly message: string
  readonly name?: string | undefined
}

const fail = (code: number, message: string) => Effect.fail<Failure>({ code, message })
/** An engine error keeps its code and name (the client's parse of it); paths stay on the server. */
const engineFailure = (e: ClickHouseError): Failure => ({
  code: e.code ?? 1001,
  message: publicMessage(e.message),
  name: (e.cause as { type?: unknown } | undefined)?.type?.toString(),
})

// The names of the errors raised here (an engine error brings its own).
const names: Readonly<Record<number, string>> = {
  48: "NOT_IMPLEMENTED",
  62: "SYNTAX_ERROR",
  73: "UNKNOWN_FORMAT",
  81: "UNKNOWN_DATABASE",
  115: "UNKNOWN_SETTING",
  164: "READONLY",
  202: "TOO_MANY_SIMULTANEOUS_QUERIES",
  229: "QUERY_IS_TOO_LARGE",
  457: "BAD_QUERY_PARAMETER",
  497: "ACCESS_DENIED",
  516: "AUTHENTICATION_FAILED",
  1001: "STD_EXCEPTION",
}

// ClickHouse's exceptionCodeToHTTPStatus (src/Server/HTTP/exceptionCodeToHTTPStatus.cpp); anything
// else, READONLY included, is a 500 there too.
const statusGroups: ReadonlyArray<readonly [number, ReadonlyArray<number>]> = [
  [401, [194]],
  [403, [192, 193, 497, 512, 516]],
  [
    400,
    [
      6, 8, 15, 25, 26, 27, 36, 37, 38, 41, 44, 53, 62, 72, 117, 123, 167, 168, 223, 321, 376, 427, 441, 675,
      676,
    ],
  ],
  [404, [46, 47, 50, 56, 60, 63, 73, 78, 81, 115, 152, 336, 511]],
  [408, [159]],
  [411, [381]],
  [413, [229]],
  [415, [779]],
  [501, [48]],
  [503, [76, 209, 439]],
]
export const httpStatusOf = (code: number): number =>
  statusGroups.find(([, codes]) => codes.includes(code))?.[0] ?? 500

/** Content-Type as ClickHouse's output formats declare it (IOutputFormat::getContentType). */
const contentTypes: ReadonlyArray<readonly [RegExp, string]> = [
  [/^(tabseparated|tsv)/, "text/tab-separated-values; charset=UTF-8"],
  [/^csvwith/, "text/csv; charset=UTF-8; header=present"],
  [/^csv/, "text/csv; charset=UTF-8; header=absent"],
  [/^(jsoneachrow|jsonlines|ndjson)$/, "application/x-ndjson; charset=UTF-8"],
  [
    /^json(strings|compact(strings|columns)?|columns(withmetadata)?|objecteachrow)?$/,
    "application/json; charset=UTF-8",
  ],
  [/^xml$/, "application/xml; charset=UTF-8"],
  [
    /^(native|rowbinary\w*|parquet|arrow(stream)?|orc|avro|protobuf\w*|msgpack|capnproto|bsoneachrow|npy)$/,
    "application/octet-stream",
  ],
]
export const contentTypeOf = (format: string): string =>
  contentTypes.find(([re]) => re.test(format.toLowerCase()))?.[1] ?? "text/plain; charset=UTF-8"

/** The password a request brings (basic auth, X-ClickHouse-Key or a bearer token) and its user. */
const credentials = (headers: Readonly<Record<string, string | undefined>>) => {
  const authorization = headers.authorization ?? ""
  const basic = /^Basic\s+(\S+)$/i.exec(authorization)?.[1]
  const decoded = basic === undefined ? undefined : Buffer.from(basic, "base64").toString("utf8")
  const colon = decoded?.indexOf(":") ?? -1
  if (headers["x-clickhouse-key"] !== undefined || headers["x-clickhouse-user"] !== undefined)
    return { user: headers["x-clickhouse-user"] ?? "default", key: headers["x-clickhouse-key"] ?? "" }
  if (decoded !== undefined)
    return colon < 0
      ? { user: decoded, key: "" }
      : { user: decoded.slice(0, colon), key: decoded.slice(colon + 1) }
  return { user: "default", key: /^Bearer (.+)$/.exec(authorization)?.[1] ?? "" }
}

// URL parameters read elsewhere, or that change nothing here: transport, sessions (every query runs
// on the one read-only session), progress and compression (the answer is sent whole, uncompressed).
const ignored = new Set(
  (
    "query query_id database default_format session_id session_timeout session_check quota_key buffer_size " +
    "client_protocol_version wait_end_of_query http_wait_end_of_query http_response_buffer_size " +
    "send_progress_in_http_headers http_headers_progress_interval_ms enable_http_compression " +
    "http_zlib_compression_level cancel_http_readonly_queries_on_client_close"
  ).split(" "),
)
// Settings that are the endpoint's limits and rights: refused whatever their value.
const limitSetting = /^(readonly|profile|priority)$|^(max|min|allow)_|_overflow_mode$|timeout/
const identifier = /^[A-Za-z_][A-Za-z0-9_]*$/
const normalized = (v: string) => {
  const l = v.trim().toLowerCase()
  return l === "true" ? "1" : l === "false" ? "0" : l
}

const zeroSummary = Object.fromEntries(
  "read_rows read_bytes written_rows written_bytes total_rows_to_read result_rows result_bytes elapsed_ns"
    .split(" ")
    .map((k) => [k, "0"]),
)

interface SessionInfo {
  readonly version: string
  readonly database: string
}

/**
 * The ClickHouse HTTP interface around `app`: /ping and / (POST, or GET with a `query`
 * parameter) are answered here, every other request (GET / without `query` too) goes to `app`.
 */
export const withClickHouseHttp = (settings: ClickHouseHttpSettings, permits: Effect.Semaphore) => {
  const limits = settings.endpoint.limits
  let info: SessionInfo | undefined
  const session = Effect.suspend(() =>
    info !== undefined
      ? Effect.succeed(info)
      : ClickHouseReadOnly.pipe(
          Effect.flatMap((ch) =>
            ch.query<SessionInfo>("SELECT version() AS version, currentDatabase() AS database"),
          ),
          Effect.map((rows) => rows[0] ?? { version: "unknown", database: "default" }),
          Effect.tap((i) => {
            info = i
          }),
          Effect.mapError(engineFailure),
        ),
  )

  /** URL settings must leave the session as it is: equal to its value, or harmless transport. */
  const checkSettings = (given: ReadonlyArray<readonly [string, string]>) =>
    Effect.gen(function* () {
      const refused = given.find(([name]) => limitSetting.test(name))
      if (refused !== undefined)
        return yield* fail(164, `Cannot modify '${refused[0]}' setting in readonly mode`)
      if (given.length === 0) return
      if (given.some(([name]) => !identifier.test(name))) return yield* fail(115, "Unknown setting name")
      const ch = yield* ClickHouseReadOnly
      const rows = yield* ch
        .query<{ name: string; value: string }>(
          "SELECT name, value FROM system.settings WHERE name IN {names:Array(String)}",
          { names: given.map(([name]) => name) },
        )
        .pipe(Effect.mapError(engineFailure))
      const current = new Map(rows.map((r) => [r.name, String(r.value)]))
      for (const [name, value] of given) {
        const now = current.get(name)
        if (now === undefined) return yield* fail(115, `Unknown setting '${name}'`)
        if (normalized(now) !== normalized(value))
          return yield* fail(164, `Cannot modify '${name}' setting in readonly mode`)
      }
    })

  const run = (request: Request, url: URL, queryId: string) =>
    Effect.gen(function* () {
      const headers = request.headers
      if (!hostAllowed(headers.host, settings.endpoint))
        return yield* fail(497, "this endpoint does not answer to that Host (PROCESSOR_HTTP_ALLOWED_HOSTS)")
      if (!originAllowed(headers.origin, settings.endpoint))
        return yield* fail(497, "cross-origin requests are not allowed")
      const { user, key } = credentials(headers)
      const denied = (why: string) => fail(516, `${user.replace(/[^\x20-\x7e]/g, "?").slice(0, 64)}: ${why}`)
      // The token in a URL would end up in logs and shell history.
      if (url.searchParams.has("password") || url.searchParams.has("user"))
        return yield* denied("credentials in the URL are not accepted: use basic auth or X-ClickHouse-Key")
      if (!tokenMatches(key, settings.token))
        return yield* denied(
          "Authentication failed: password is incorrect, or there is no user with such name",
        )
      const { database } = yield* session

      const params: Record<string, string> = {}
      const toCheck: Array<readonly [string, string]> = []
      for (const [param, value] of url.searchParams) {
        if (param.startsWith("param_")) {
          if (!identifier.test(param.slice(6))) return yield* fail(457, `Bad query parameter name '${param}'`)
          params[param.slice(6)] = value
        } else if (!ignored.has(param)) toCheck.push([param, value])
      }
      const named = url.searchParams.get("database") ?? headers["x-clickhouse-database"]
      if (named !== undefined && named !== database)
        return yield* fail(81, `Database ${named.slice(0, 64)} does not exist (this is ${database})`)
      yield* checkSettings(toCheck)

      const tooLarge = `the query is larger than ${limits.maxBodyBytes} bytes (QUERY_MAX_BODY_BYTES)`
      let sql = url.searchParams.get("query") ?? ""
      if (request.method === "POST") {
        if ((headers["content-type"] ?? "").startsWith("multipart/"))
          return yield* fail(48, "multipart/form-data is not supported here: send param_<name> in the URL")
        if (Number(headers["content-length"] ?? 0) > limits.maxBodyBytes) return yield* fail(229, tooLarge)
        const body = yield* request.text.pipe(
          HttpIncomingMessage.withMaxBodySize(Option.some(limits.maxBodyBytes)),
          Effect.option,
        )
        if (Option.isNone(body)) return yield* fail(229, tooLarge)
        // As ClickHouse: the `query` parameter, a newline, then the body.
        sql = sql === "" ? body.value : `${sql}\n${body.value}`
      }
      if (Buffer.byteLength(sql) > limits.maxBodyBytes) return yield* fail(229, tooLarge)

      const format =
        url.searchParams.get("default_format") ?? headers["x-clickhouse-format"] ?? "TabSeparated"
      const queries = yield* ReadQueries
      const outcome = yield* permits
        .withPermitsIfAvailable(1)(queries.runBytes(sql, format, params))
        .pipe(
          Effect.catchTags({
            QueryRefused: (e) =>
              e.code === undefined
                ? fail(164, `Cannot execute query in readonly mode: ${e.message}`)
                : fail(e.code, e.message),
            ClickHouseError: (e) => Effect.fail(engineFailure(e)),
          }),
        )
      const busy = `Too many simultaneous queries. Maximum: ${limits.maxConcurrent} (QUERY_MAX_CONCURRENT)`
      if (Option.isNone(outcome)) return yield* fail(202, busy)
      const result = outcome.value
      const summary = { ...zeroSummary, ...result.summary }
      return HttpServerResponse.uint8Array(result.bytes, {
        contentType: contentTypeOf(result.format),
        headers: {
          "x-clickhouse-query-id": queryId,
          "x-clickhouse-format": result.format,
          "x-clickhouse-timezone": "UTC",
          "x-clickhouse-summary": JSON.stringify(summary),
        },
      })
    })

  const answer = (request: Request, url: URL) => {
    const queryId = (url.searchParams.get("query_id") ?? "").slice(0, 128) || randomUUID()
    return run(request, url, queryId).pipe(
      Effect.catchAll((f: Failure) =>
        Effect.gen(function* () {
          const version = yield* Effect.orElseSucceed(
            Effect.map(session, (i) => i.version),
            () => "unknown",
          )
          const message = f.message.trim().replace(/\.$/, "")
          const name = f.name ?? names[f.code] ?? "UNKNOWN_EXCEPTION"
          return HttpServerResponse.text(
            `Code: ${f.code}. DB::Exception: ${message}. (${name}) (version ${version})\n`,
            {
              status: httpStatusOf(f.code),
              contentType: "text/plain; charset=UTF-8",
              headers: { "x-clickhouse-exception-code": String(f.code), "x-clickhouse-query-id": queryId },
            },
          )
        }),
      ),
    )
  }

  return <E, R>(app: Effect.Effect<Response, E, R>): Effect.Effect<Response, E, R | Needs | Request> =>
    Effect.flatMap(HttpServerRequest.HttpServerRequest, (request): Effect.Effect<Response, E, R | Needs> => {
      const url = new URL(request.url, "http://localhost")
      if (url.pathname === "/ping" && request.method === "GET")
        return Effect.succeed<Response>(HttpServerResponse.text("Ok.\n"))
      if (
        url.pathname === "/" &&
        (request.method === "POST" || (request.method === "GET" && url.searchParams.has("query")))
      )
        return answer(request, url)
      return app
    })
}
