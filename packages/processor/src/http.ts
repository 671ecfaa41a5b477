import { createServer } from "node:http"
import { HttpRouter, HttpServer, HttpServerRequest, HttpServerResponse } from "@effect/platform"
import { NodeHttpServer } from "@effect/platform-node"
import { ClickHouseReadOnly } from "@rtoa/core"
import { Clock, Effect, Layer, Redacted } from "effect"
import { Health, type HealthSnapshot, renderHealthMetrics } from "./health.ts"
import { Metrics } from "./metrics.ts"

export interface HttpSettings {
  readonly host: string
  readonly port: number
  readonly token: Redacted.Redacted | undefined
}

/** Formats accepted on /query (the rest of ClickHouse's list works too, these are common). */
const defaultFormat = "PrettyCompactMonoBlock"
const formatName = /^[A-Za-z]+$/

const requireToken = (token: Redacted.Redacted | undefined) =>
  Effect.gen(function* () {
    if (token === undefined) return true
    const request = yield* HttpServerRequest.HttpServerRequest
    return request.headers.authorization === `Bearer ${Redacted.value(token)}`
  })

const unauthorized = HttpServerResponse.text("missing or wrong bearer token\n", { status: 401 })

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
 * Operator endpoint of the processor. The embedded engine allows one process per data directory,
 * so while the processor runs, `make chclient` and other readers query through here:
 *   GET  /health             liveness: 200 unless the processor has stopped for good (failed)
 *   GET  /ready              readiness: 200 only while running (not starting, backing off, stalled)
 *   POST /query?format=F     SQL in the body; runs on a read-only session (readonly=1, limits)
 *   GET  /metrics            Prometheus text
 */
export const router = (token: Redacted.Redacted | undefined) =>
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
      Effect.gen(function* () {
        if (!(yield* requireToken(token))) return unauthorized
        const metrics = yield* Metrics
        const health = yield* Effect.flatMap(Health, (h) => h.snapshot)
        const now = yield* Clock.currentTimeMillis
        return HttpServerResponse.text(`${metrics.render()}\n\n${renderHealthMetrics(health, now)}\n`, {
          contentType: "text/plain; version=0.0.4",
        })
      }),
    ),
    HttpRouter.post(
      "/query",
      Effect.gen(function* () {
        if (!(yield* requireToken(token))) return unauthorized
        const request = yield* HttpServerRequest.HttpServerRequest
        const params = yield* HttpServerRequest.ParsedSearchParams
        const format = typeof params.format === "string" ? params.format : defaultFormat
        if (!formatName.test(format))
          return HttpServerResponse.text(`bad format: ${format}\n`, { status: 400 })
        const sql = (yield* request.text).trim()
        if (sql.length === 0) return HttpServerResponse.text("empty query\n", { status: 400 })
        const ch = yield* ClickHouseReadOnly
        return yield* ch.queryText(sql, format).pipe(
          Effect.map((out) => HttpServerResponse.text(out)),
          Effect.catchTag("ClickHouseError", (e) =>
            Effect.succeed(HttpServerResponse.text(`${e.message.trim()}\n`, { status: 400 })),
          ),
        )
      }),
    ),
  )

export const HttpLive = (settings: HttpSettings) =>
  HttpServer.serve(router(settings.token)).pipe(
    HttpServer.withLogAddress,
    Layer.provide(NodeHttpServer.layer(() => createServer(), { host: settings.host, port: settings.port })),
  )
