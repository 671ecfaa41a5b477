import { ClickHouseError, QueryRefused, ReadQueries } from "@rtoa/core"
import { Deferred, Effect, Layer } from "effect"
import { afterAll, describe, expect, it } from "vitest"
import { ProcessorMetrics } from "../src/metrics.ts"
import { endpointHandler } from "./support/endpoint-handler.ts"

// A stand-in for the guarded read-only queries (the real ones run in clickhouse.it.test.ts and
// the probe suite): echoes SQL and format; "slow" waits until released, "DROP" is refused.
const release = Effect.runSync(Deferred.make<void>())
const readQueriesStub = Layer.succeed(ReadQueries, {
  run: (sql, format) =>
    sql.startsWith("slow")
      ? Effect.as(Deferred.await(release), "done\n")
      : sql.startsWith("DROP")
        ? Effect.fail(
            new QueryRefused({
              message: "only SELECT, SHOW, DESCRIBE, SHOW CREATE, EXISTS and EXPLAIN run here",
            }),
          )
        : sql.startsWith("broken")
          ? Effect.fail(
              new ClickHouseError({
                reason: "Query",
                message: "Cannot read /tmp/rtoa-x/chdb/store/abc.bin. Stack trace: 0. foo",
              }),
            )
          : Effect.succeed(`${format}: ${sql}\n`),
  // The ClickHouse HTTP interface's runs are stubbed in clickhouse-http.test.ts.
  runBytes: () => Effect.die("not used"),
})

const metrics = new ProcessorMetrics()
metrics.recordBatch({
  consumed: 5,
  written: 4,
  deadLetters: ["invalid"],
  latenciesSeconds: [0.1, 0.2, 0.3, 0.4],
  lag: new Map([[0, 7]]),
})
const { handler, dispose } = endpointHandler({ readQueries: readQueriesStub, metrics })
afterAll(() => dispose())

const call = (path: string, init: RequestInit = {}, host = "127.0.0.1:8124") =>
  handler(new Request(`http://${host}${path}`, { ...init, headers: { host, ...(init.headers ?? {}) } }))
const auth = { authorization: "Bearer s3cret" }
const query = (body: string, headers: Record<string, string> = {}, path = "/query") =>
  call(path, { method: "POST", body, headers: { ...auth, ...headers } })

describe("operator endpoint", () => {
  it("answers /health and /ready without a token, with the state as JSON", async () => {
    const response = await call("/health")
    expect(response.status).toBe(200)
    expect(await response.json()).toMatchObject({ state: "starting", pending_records: 7 })
    expect((await call("/ready")).status).toBe(503)
  })

  it("requires the bearer token for /query and /metrics, compared whole", async () => {
    expect((await call("/metrics")).status).toBe(401)
    expect((await call("/query", { method: "POST", body: "SELECT 1" })).status).toBe(401)
    expect((await call("/metrics", { headers: { authorization: "Bearer wrong" } })).status).toBe(401)
    expect((await call("/metrics", { headers: { authorization: "Bearer s3cre" } })).status).toBe(401)
    expect((await call("/metrics", { headers: { authorization: "Bearer s3crett" } })).status).toBe(401)
    expect((await call("/metrics", { headers: { authorization: "Bearer " } })).status).toBe(401)
    expect((await call("/metrics", { headers: auth })).status).toBe(200)
  })

  it("refuses other Hosts (DNS rebinding) and other sites' pages (Origin), token or not", async () => {
    expect((await call("/metrics", { headers: auth }, "evil.example:8124")).status).toBe(403)
    expect((await call("/metrics", { headers: auth }, "127.0.0.1:9999")).status).toBe(403)
    expect((await query("SELECT 1", { origin: "https://evil.example" })).status).toBe(403)
    expect((await query("SELECT 1", { origin: "null" })).status).toBe(403)
    expect((await query("SELECT 1", { origin: "http://127.0.0.1:8124" })).status).toBe(200)
    expect((await call("/metrics", { headers: auth }, "localhost:8124")).status).toBe(200)
  })

  it("runs SQL from the body in the requested format; refusals and engine errors are 400 without paths", async () => {
    const ok = await query("SELECT 1", {}, "/query?format=TSV")
    expect(await ok.text()).toBe("TSV: SELECT 1\n")
    const refused = await query("DROP TABLE raw_events")
    expect(refused.status).toBe(400)
    expect(await refused.text()).toMatch(/^refused: only SELECT/)
    const broken = await query("broken")
    expect(broken.status).toBe(400)
    const text = await broken.text()
    expect(text).toContain("Cannot read <path>")
    expect(text).not.toMatch(/\/tmp|Stack trace/)
  })

  it("refuses a body over QUERY_MAX_BODY_BYTES (413) and more than QUERY_MAX_CONCURRENT at once (429)", async () => {
    // The declared length is checked up front (a chunked body is cut at the limit by the server).
    const large = `SELECT '${"x".repeat(2_000)}'`
    expect((await query(large, { "content-length": String(large.length) })).status).toBe(413)
    const slow = query("slow")
    await new Promise((r) => setTimeout(r, 50))
    const busy = await query("SELECT 1")
    expect(busy.status).toBe(429)
    expect(busy.headers.get("retry-after")).toBe("1")
    Effect.runSync(Deferred.succeed(release, undefined))
    expect((await slow).status).toBe(200)
    expect((await query("SELECT 1")).status).toBe(200)
  })

  it("exposes Prometheus metrics with the processor state", async () => {
    const text = await (await call("/metrics", { headers: auth })).text()
    expect(text).toMatch(/^rtoa_events_consumed_total 5$/m)
    expect(text).toMatch(/^rtoa_dead_letters_total\{reason="invalid"\} 1$/m)
    expect(text).toMatch(/^rtoa_consumer_lag\{partition="0"\} 7$/m)
    expect(text).toMatch(/^rtoa_end_to_end_latency_seconds_bucket\{le="0.25"\} 2$/m)
    expect(text).toMatch(/^rtoa_end_to_end_latency_seconds_count 4$/m)
    expect(text).toMatch(/^rtoa_processor_state\{state="starting"\} 1$/m)
  })
})
