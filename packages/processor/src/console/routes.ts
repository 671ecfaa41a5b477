import * as fs from "node:fs"
import * as path from "node:path"
import { HttpRouter, HttpServerRequest, HttpServerResponse } from "@effect/platform"
import { bearerMatches, ClickHouseReadOnly, publicMessage, sessionCookie } from "@rtoa/core"
import {
  AlertsResponse,
  DeadLettersResponse,
  DimensionsResponse,
  dashboardDist,
  HealthHistoryResponse,
  HealthResponse,
  IntegrityResponse,
  LoginRequest,
  MetricsResponse,
  RangeQuery,
} from "@rtoa/dashboard"
import { MinuteCounts } from "@rtoa/pipeline"
import { Effect, type Redacted, Schema, Stream } from "effect"
import { Alerts } from "../alerts/runner.ts"
import { DeadLetterLog } from "../dead-letter-log.ts"
import type { Health } from "../health.ts"
import { Metrics } from "../metrics.ts"
import type { Sampler } from "../sampler.ts"
import { consoleEvents, healthNow } from "./live.ts"
import {
  dimensionsQuery,
  healthHistoryQuery,
  integrityQuery,
  metricsQuery,
  normalizeRange,
} from "./queries.ts"
import { makeSharedReads, type SharedReads } from "./shared-reads.ts"

/**
 * The operators' console over HTTP: the page (/dashboard/, static files bundled at setup), its
 * JSON API (/api/*, typed by @rtoa/dashboard's Schemas) and its event stream (/api/stream).
 * `protect` is the endpoint's guard (Host, Origin, token or session cookie).
 */

type Protect = <E, R>(
  handler: Effect.Effect<HttpServerResponse.HttpServerResponse, E, R>,
) => Effect.Effect<HttpServerResponse.HttpServerResponse, E, R | HttpServerRequest.HttpServerRequest>

const json = <A, I>(schema: Schema.Schema<A, I>, value: A) =>
  HttpServerResponse.unsafeJson(Schema.encodeSync(schema)(value))

const badRequest = (message: string) => HttpServerResponse.text(`${message}\n`, { status: 400 })

/** A range query from the URL, or a 400 saying what is wrong with it. */
const withRange = <E, R>(
  f: (
    r: ReturnType<typeof normalizeRange>,
    q: RangeQuery,
  ) => Effect.Effect<HttpServerResponse.HttpServerResponse, E, R>,
) =>
  HttpServerRequest.schemaSearchParams(RangeQuery).pipe(
    Effect.flatMap((q) => (q.to <= q.from ? Effect.fail("`to` must be after `from`") : Effect.succeed(q))),
    Effect.matchEffect({
      onFailure: (e) => Effect.succeed(badRequest(typeof e === "string" ? e : `bad range: ${e.message}`)),
      onSuccess: (q) => f(normalizeRange(q), q),
    }),
  )

/**
 * A read on the read-only session; an engine error is a 500 without paths. Identical reads under
 * the same data version within a second share one query (`key`: the route and its normalized range).
 */
const reader =
  (sharedReads: SharedReads) =>
  <A, I, E extends { readonly message: string }, R>(
    schema: Schema.Schema<A, I>,
    key: string,
    query: Effect.Effect<A, E, R>,
  ) =>
    Effect.flatMap(MinuteCounts, (counts) => counts.version).pipe(
      Effect.flatMap((version) => sharedReads.read(key, version, query)),
      Effect.map((value) => json(schema, value)),
      Effect.catchAll((e) =>
        Effect.succeed(HttpServerResponse.text(`${publicMessage(e.message)}\n`, { status: 500 })),
      ),
    )

const contentTypes: Readonly<Record<string, string>> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
}

/**
 * The bundled page's files, read once (not a sync disk read per request on the event loop); until
 * the page is built, looked for again on each request. A rebuild shows after a restart.
 */
let bundle: ReadonlyMap<string, Uint8Array> | undefined
const bundled = (): ReadonlyMap<string, Uint8Array> => {
  if (bundle !== undefined) return bundle
  const names = fs.existsSync(dashboardDist)
    ? fs
        .readdirSync(dashboardDist, { withFileTypes: true })
        .filter((e) => e.isFile())
        .map((e) => e.name)
    : []
  const files = new Map(names.map((n) => [n, fs.readFileSync(path.join(dashboardDist, n))] as const))
  if (files.size > 0) bundle = files
  return files
}

/** A file of the bundled page; only names in dist, never a path a caller made up. */
const staticFile = (name: string) => {
  const files = bundled()
  const body = files.get(name)
  if (body === undefined)
    return HttpServerResponse.text(
      files.size === 0
        ? "the console is not built: run make setup (or pnpm --filter @rtoa/dashboard build)\n"
        : "not found\n",
      { status: 404 },
    )
  return HttpServerResponse.uint8Array(body, {
    contentType: contentTypes[path.extname(name)] ?? "application/octet-stream",
    headers: {
      "cache-control": name === "index.html" ? "no-cache" : "max-age=300",
      "x-content-type-options": "nosniff",
      // The page loads only its own files and talks only to this endpoint.
      "content-security-policy":
        "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'",
    },
  })
}

export const consoleRoutes = (protect: Protect, hostOnly: Protect, token: Redacted.Redacted) => {
  const read = reader(makeSharedReads(1_000))
  return HttpRouter.empty.pipe(
    HttpRouter.get(
      "/",
      hostOnly(Effect.succeed(HttpServerResponse.redirect("/dashboard/", { status: 302 }))),
    ),
    // The router ignores a trailing slash; the page's relative asset URLs need it.
    HttpRouter.get(
      "/dashboard/",
      hostOnly(
        Effect.map(HttpServerRequest.HttpServerRequest, (req) =>
          new URL(req.url, "http://x").pathname.endsWith("/")
            ? staticFile("index.html")
            : HttpServerResponse.redirect("/dashboard/", { status: 302 }),
        ),
      ),
    ),
    HttpRouter.get(
      "/dashboard/:file",
      hostOnly(Effect.map(HttpRouter.params, (p) => staticFile(p.file ?? ""))),
    ),
    HttpRouter.post(
      "/api/login",
      hostOnly(
        HttpServerRequest.schemaBodyJson(LoginRequest).pipe(
          Effect.map(({ token: given }) =>
            bearerMatches(`Bearer ${given}`, token)
              ? HttpServerResponse.empty({ status: 204, headers: { "set-cookie": sessionCookie(token) } })
              : HttpServerResponse.text("wrong token\n", { status: 401 }),
          ),
          Effect.catchAll(() => Effect.succeed(badRequest('expected JSON {"token": "..."}'))),
        ),
      ),
    ),
    HttpRouter.get("/api/health", protect(Effect.map(healthNow, (h) => json(HealthResponse, h)))),
    HttpRouter.get(
      "/api/metrics",
      protect(
        withRange((r, q) =>
          Effect.flatMap(ClickHouseReadOnly, (ch) =>
            read(
              MetricsResponse,
              `metrics ${JSON.stringify(r)} ${q.compare ?? "none"}`,
              metricsQuery(ch, r, q.compare ?? "none"),
            ),
          ),
        ),
      ),
    ),
    HttpRouter.get(
      "/api/dimensions",
      protect(
        withRange((r) =>
          Effect.flatMap(ClickHouseReadOnly, (ch) =>
            read(DimensionsResponse, `dimensions ${JSON.stringify(r)}`, dimensionsQuery(ch, r)),
          ),
        ),
      ),
    ),
    HttpRouter.get(
      "/api/integrity",
      protect(
        withRange((r) =>
          Effect.flatMap(ClickHouseReadOnly, (ch) =>
            read(IntegrityResponse, `integrity ${JSON.stringify(r)}`, integrityQuery(ch, r)),
          ),
        ),
      ),
    ),
    HttpRouter.get(
      "/api/health/history",
      protect(
        withRange((r) =>
          Effect.flatMap(ClickHouseReadOnly, (ch) =>
            read(HealthHistoryResponse, `health ${JSON.stringify(r)}`, healthHistoryQuery(ch, r)),
          ),
        ),
      ),
    ),
    HttpRouter.get(
      "/api/dead-letters",
      protect(
        Effect.gen(function* () {
          const params = yield* HttpServerRequest.ParsedSearchParams
          const limit = Math.min(200, Math.max(1, Number(params.limit ?? 50) || 50))
          const log = yield* DeadLetterLog
          const metrics = yield* Metrics
          return json(DeadLettersResponse, {
            counts: Object.fromEntries(metrics.deadLetters),
            latest: yield* log.latest(limit),
          })
        }),
      ),
    ),
    HttpRouter.get(
      "/api/alerts",
      protect(Effect.flatMap(Alerts, (a) => Effect.map(a.status, (s) => json(AlertsResponse, s)))),
    ),
    HttpRouter.get(
      "/api/stream",
      protect(
        Effect.map(
          Effect.context<Health | Sampler | Metrics | MinuteCounts | DeadLetterLog | Alerts>(),
          (services) =>
            HttpServerResponse.stream(consoleEvents().pipe(Stream.provideContext(services)), {
              contentType: "text/event-stream",
              headers: { "cache-control": "no-cache", "x-accel-buffering": "no" },
            }),
        ),
      ),
    ),
  )
}
