import { HttpApp } from "@effect/platform"
import { ClickHouseError, ClickHouseReadOnly } from "@rtoa/core"
import { Duration, Effect, Layer, Redacted } from "effect"
import { afterAll, describe, expect, it } from "vitest"
import { HealthLive } from "../src/health.ts"
import { router } from "../src/http.ts"
import { Metrics, ProcessorMetrics } from "../src/metrics.ts"

// A stand-in for the read-only session (the real one is exercised in processor.it.test.ts):
// echoes the SQL and format, and refuses anything that is not a SELECT the way readonly=1 does.
const readOnlyStub = Layer.succeed(ClickHouseReadOnly, {
  mode: "Embedded",
  query: () => Effect.succeed([]),
  command: () => Effect.die("not used"),
  insert: () => Effect.die("not used"),
  queryText: (sql, format) =>
    /^\s*select/i.test(sql)
      ? Effect.succeed(`${format}: ${sql}\n`)
      : Effect.fail(
          new ClickHouseError({ reason: "Query", message: "Cannot execute query in readonly mode." }),
        ),
})

const metrics = new ProcessorMetrics()
metrics.recordBatch({
  consumed: 5,
  written: 4,
  deadLetters: ["invalid"],
  latenciesSeconds: [0.1, 0.2, 0.3, 0.4],
  lag: new Map([[0, 7]]),
})
const { handler, dispose } = HttpApp.toWebHandlerLayer(
  router(Redacted.make("s3cret")),
  Layer.mergeAll(readOnlyStub, HealthLive(Duration.seconds(30))).pipe(
    Layer.provideMerge(Layer.succeed(Metrics, metrics)),
  ),
)
afterAll(() => dispose())

const call = (path: string, init: RequestInit = {}) => handler(new Request(`http://localhost${path}`, init))
const auth = { authorization: "Bearer s3cret" }

describe("operator endpoint", () => {
  it("answers /health without a token", async () => {
    const response = await call("/health")
    expect(response.status).toBe(200)
  })

  it("requires the bearer token for /query and /metrics when one is configured", async () => {
    expect((await call("/metrics")).status).toBe(401)
    expect((await call("/query", { method: "POST", body: "SELECT 1" })).status).toBe(401)
    expect((await call("/metrics", { headers: { authorization: "Bearer wrong" } })).status).toBe(401)
  })

  it("runs SQL from the body in the requested format and reports ClickHouse errors as 400", async () => {
    const ok = await call("/query?format=TSV", { method: "POST", body: "SELECT 1", headers: auth })
    expect(await ok.text()).toBe("TSV: SELECT 1\n")
    const refused = await call("/query", { method: "POST", body: "DROP TABLE raw_events", headers: auth })
    expect(refused.status).toBe(400)
    expect(await refused.text()).toMatch(/readonly/)
    expect(
      (await call("/query?format=TSV;DROP", { method: "POST", body: "SELECT 1", headers: auth })).status,
    ).toBe(400)
    expect((await call("/query", { method: "POST", body: "  ", headers: auth })).status).toBe(400)
  })

  it("exposes Prometheus metrics", async () => {
    const text = await (await call("/metrics", { headers: auth })).text()
    expect(text).toMatch(/^rtoa_events_consumed_total 5$/m)
    expect(text).toMatch(/^rtoa_dead_letters_total\{reason="invalid"\} 1$/m)
    expect(text).toMatch(/^rtoa_consumer_lag\{partition="0"\} 7$/m)
    expect(text).toMatch(/^rtoa_end_to_end_latency_seconds_bucket\{le="0.25"\} 2$/m)
    expect(text).toMatch(/^rtoa_end_to_end_latency_seconds_count 4$/m)
  })
})
