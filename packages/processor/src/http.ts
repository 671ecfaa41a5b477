import { createServer, type Server } from "node:http"
import {
  HttpIncomingMessage,
  HttpRouter,
  HttpServer,
  HttpServerRequest,
  HttpServerResponse,
} from "@effect/platform"
import { NodeHttpServer } from "@effect/platform-node"
import {
  bearerMatches,
  EndpointConfig,
  ensureEndpointToken,
  hostAllowed,
  originAllowed,
  publicMessage,
  ReadQueries,
  sessionMatches,
} from "@rtoa/core"
import { Clock, Config, Effect, Layer, Option, type Redacted } from "effect"
import { withClickHouseHttp } from "./clickhouse-http.ts"
import { consoleRoutes } from "./console/routes.ts"
import { Health, type HealthSnapshot, recordHealthMetrics } from "./health.ts"
import { Metrics } from "./metrics.ts"

export interface HttpSettings {
  readonly endpoint: EndpointConfig
  /** The token every request but /health and /ready must bear. */
  readonly token: Redacted.Redacted
}

const defaultFormat = "PrettyCompactMonoBlock"

const text = (body: string, status: number, headers: Record<string, string> = {}) =>
  HttpServerResponse.text(`${body}\n`, { status, headers })

const healthJson = (h: HealthSnapshot, status: number) =>
  HttpServerResponse.unsafeJson(
    {
      state: h.state,
      since: new Date(h.since).toISOString(),
      ...(h.reason === undefined ? {} : { reason: h.reason }),
      ...(h.lastCommitAt === undefined ? {} : { last_commit: new Date(h.lastCommitAt).toISOString() }),
      pending_records: h.pending,
    },
    { status },
  )

/**
 * Every route but the health probes: the request must address this endpoint by an allowed name
 * (no DNS rebinding) and must not come from another site's page (Origin); with `auth`, it must
 * also bear the token or the console's session cookie (compared in constant time).
 */
const guard =
  (settings: HttpSettings, auth: boolean) =>
  <E, R>(handler: Effect.Effect<HttpServerResponse.HttpServerResponse, E, R>) =>
    Effect.gen(function* () {
      const { headers } = yield* HttpServerRequest.HttpServerRequest
      if (!hostAllowed(headers.host, settings.endpoint))
        return text("this endpoint does not answer to that Host (PROCESSOR_HTTP_ALLOWED_HOSTS)", 403)
      if (!originAllowed(headers.origin, settings.endpoint))
        return text("cross-origin requests are not allowed", 403)
      if (
        auth &&
        !bearerMatches(headers.authorization, settings.token) &&
        !sessionMatches(headers.cookie, settings.token)
      )
        return text("missing or wrong bearer token (make chclient and the tools read it for you)", 401, {
          "www-authenticate": 'Bearer realm="rtoa"',
        })
      return yield* handler
    })

const guarded = <E, R>(
  settings: HttpSettings,
  handler: Effect.Effect<HttpServerResponse.HttpServerResponse, E, R>,
) => guard(settings, true)(handler)

/** POST /query: size-limited body, at most QUERY_MAX_CONCURRENT at once, the guarded read-only run. */
const queryRoute = (settings: HttpSettings, permits: Effect.Semaphore) =>
  Effect.gen(function* () {
    const limits = settings.endpoint.limits
    const request = yield* HttpServerRequest.HttpServerRequest
    const params = yield* HttpServerRequest.ParsedSearchParams
    const format = typeof params.format === "string" ? params.format : defaultFormat
    const tooLarge = text(`the query is larger than ${limits.maxBodyBytes} bytes (QUERY_MAX_BODY_BYTES)`, 413)
    if (Number(request.headers["content-length"] ?? 0) > limits.maxBodyBytes) return tooLarge
    const body = yield* request.text.pipe(
      HttpIncomingMessage.withMaxBodySize(Option.some(limits.maxBodyBytes)),
      Effect.option,
    )
    if (Option.isNone(body)) return tooLarge
    const queries = yield* ReadQueries
    const outcome = yield* permits.withPermitsIfAvailable(1)(
      queries.run(body.value, format).pipe(
        Effect.map((out) => HttpServerResponse.text(out)),
        Effect.catchTags({
          QueryRefused: (e) => Effect.succeed(text(`refused: ${e.message}`, 400)),
          ClickHouseError: (e) => Effect.succeed(text(publicMessage(e.message), 400)),
        }),
      ),
    )
    return Option.getOrElse(outcome, () =>
      text(`${limits.maxConcurrent} queries are already running (QUERY_MAX_CONCURRENT); retry shortly`, 429, {
        "retry-after": "1",
      }),
    )
  })

/**
 * Operator endpoint of the processor. The embedded engine allows one process per data directory,
 * so while the processor runs, `make chclient` and other readers query through here:
 *   GET  /health             liveness: 200 unless the processor has stopped for good (failed)
 *   GET  /ready              readiness: 200 only while running (not starting, backing off, stalled)
 *   POST /query?format=F     one read-only statement in the body (token; see core query-guard.ts)
 *   GET  /metrics            Prometheus text (token)
 *   GET  /ping, GET /?query=, POST /   the ClickHouse HTTP interface, same rules (clickhouse-http.ts)
 */
export const router = (settings: HttpSettings) =>
  Effect.map(Effect.makeSemaphore(settings.endpoint.limits.maxConcurrent), (permits) =>
    HttpRouter.empty.pipe(
      HttpRouter.get(
        "/health",
        Effect.map(
          Effect.flatMap(Health, (h) => h.snapshot),
          (h) => healthJson(h, h.state === "failed" ? 503 : 200),
        ),
      ),
      HttpRouter.get(
        "/ready",
        Effect.map(
          Effect.flatMap(Health, (h) => h.snapshot),
          (h) => healthJson(h, h.state === "running" ? 200 : 503),
        ),
      ),
      HttpRouter.get(
        "/metrics",
        guarded(
          settings,
          Effect.gen(function* () {
            const metrics = yield* Metrics
            const health = yield* Effect.flatMap(Health, (h) => h.snapshot)
            const now = yield* Clock.currentTimeMillis
            yield* Effect.sync(() => recordHealthMetrics(metrics.registry, health, now))
            const text = yield* Effect.promise(() => metrics.render())
            return HttpServerResponse.text(text, { contentType: metrics.registry.contentType })
          }),
        ),
      ),
      HttpRouter.post("/query", guarded(settings, queryRoute(settings, permits))),
      HttpRouter.concat(consoleRoutes(guard(settings, true), guard(settings, false), settings.token)),
      withClickHouseHttp(settings, permits),
    ),
  )

/**
 * The server with its own limits: headers within 10 s and the whole request within 30 s (a slow
 * client cannot hold a socket), idle keep-alive connections closed after 5 s. On shutdown it stops
 * listening and closes every connection: the server's own release waits for open connections to
 * end, and a console's /api/stream never does (the process would outlive SIGTERM).
 */
export const layer = (settings: HttpSettings) => {
  const { endpoint } = settings
  let server: Server | undefined
  const closeConnectionsOnShutdown = Layer.scopedDiscard(
    Effect.addFinalizer(() =>
      Effect.sync(() => {
        if (server?.listening) server.close()
        server?.closeAllConnections()
      }),
    ),
  )
  return Layer.unwrapEffect(
    Effect.map(router(settings), (app) =>
      Layer.merge(HttpServer.serve(app), closeConnectionsOnShutdown).pipe(
        HttpServer.withLogAddress,
        Layer.provide(
          NodeHttpServer.layer(
            () => {
              server = createServer({
                headersTimeout: 10_000,
                requestTimeout: 30_000,
                keepAliveTimeout: 5_000,
                // Node checks the two timeouts above only this often (default 30 s).
                connectionsCheckingInterval: 1_000,
              })
              return server
            },
            { host: endpoint.host, port: endpoint.port },
          ),
        ),
      ),
    ),
  ).pipe(
    Layer.tap(() =>
      Effect.logInfo(
        `operator endpoint http://${endpoint.host}:${endpoint.port} (bearer token ${endpoint.token === undefined ? `in ${endpoint.tokenFile}` : "from PROCESSOR_HTTP_TOKEN"}); console http://${endpoint.host}:${endpoint.port}/dashboard/ (make console-url prints a sign-in link)`,
      ),
    ),
  )
}

/**
 * The endpoint from core's EndpointConfig (PROCESSOR_HTTP_*, QUERY_*) and its token:
 * PROCESSOR_HTTP_TOKEN, else the token file, created on first start.
 */
export const layerConfig = (config: Config.Config.Wrap<EndpointConfig> = EndpointConfig) =>
  Layer.unwrapEffect(
    Effect.gen(function* () {
      const endpoint = yield* Config.unwrap(config)
      return layer({ endpoint, token: yield* ensureEndpointToken(endpoint) })
    }),
  )
