import { HttpApp } from "@effect/platform"
import { ClickHouseReadOnly, type EndpointConfig, type ReadQueries } from "@rtoa/core"
import { MinuteCountsNone } from "@rtoa/pipeline"
import { Duration, Effect, Layer, Redacted } from "effect"
import { AlertInputsInMemory, AlertStateStoreMemory } from "../../src/alerts/index.ts"
import { layer as alertsLayer } from "../../src/alerts/runner.ts"
import { DeadLetterLogTest } from "../../src/dead-letter-log.ts"
import * as Health from "../../src/health.ts"
import { router } from "../../src/http.ts"
import { Metrics, ProcessorMetrics } from "../../src/metrics.ts"
import { Sampler, summarize } from "../../src/sampler.ts"

/** The endpoint the unit tests of the HTTP routes run: small limits, token "s3cret". */
export const testEndpoint: EndpointConfig = {
  host: "127.0.0.1",
  port: 8124,
  token: undefined,
  tokenFile: "/unused",
  allowedHosts: ["127.0.0.1", "localhost", "[::1]"],
  limits: {
    timeoutSeconds: 10,
    maxRows: 10,
    maxResultBytes: 1_000,
    maxMemoryBytes: 1_000_000,
    maxThreads: 1,
    maxConcurrent: 1,
    maxBodyBytes: 1_024,
  },
}

/** A read-only engine no route of the test uses (the console's SQL runs in console.it.test.ts). */
export const unusedReadOnly = Layer.succeed(ClickHouseReadOnly, {
  mode: "Embedded",
  query: () => Effect.die("not used"),
  queryText: () => Effect.die("not used"),
  queryBytes: () => Effect.die("not used"),
  command: () => Effect.die("not used"),
  insert: () => Effect.die("not used"),
})

/**
 * The processor's router as a web handler (Request in, Response out) over the given stand-ins for
 * the guarded queries and the read-only engine, with in-memory health, dead letters and alerts.
 */
export const endpointHandler = (options: {
  readonly readQueries: Layer.Layer<ReadQueries>
  readonly readOnly?: Layer.Layer<ClickHouseReadOnly>
  readonly metrics?: ProcessorMetrics
}) =>
  HttpApp.toWebHandlerLayer(
    Effect.runSync(router({ endpoint: testEndpoint, token: Redacted.make("s3cret") })),
    Layer.mergeAll(
      options.readQueries,
      options.readOnly ?? unusedReadOnly,
      Health.layer({ stallTimeout: Duration.seconds(30) }),
      DeadLetterLogTest,
      MinuteCountsNone,
      Layer.succeed(Sampler, { recent: Effect.succeed(summarize([])) }),
      alertsLayer({ rules: [], interval: Duration.seconds(10), webhookUrls: [] }).pipe(
        Layer.provide([AlertInputsInMemory, AlertStateStoreMemory]),
      ),
    ).pipe(Layer.provideMerge(Layer.succeed(Metrics, options.metrics ?? new ProcessorMetrics()))),
  )
