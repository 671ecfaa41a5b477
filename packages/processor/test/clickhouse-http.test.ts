import { ClickHouseError, ClickHouseReadOnly, QueryRefused, ReadQueries } from "@rtoa/core"
import { Deferred, Effect, Layer } from "effect"
import { afterAll, describe, expect, it } from "vitest"
import { contentTypeOf, httpStatusOf } from "../src/clickhouse-http.ts"
import { endpointHandler } from "./support/endpoint-handler.ts"

// Stand-ins for the guarded read-only runs (the real ones: clickhouse-http.it.test.ts): echo what
// they were given; "slow" waits until released; a few statements fail as the guard or engine would.
const release = Effect.runSync(Deferred.make<void>())
const readQueriesStub = Layer.succeed(ReadQueries, {
  run: () => Effect.die("not used"),
  runBytes: (sql, format, params) => {
    const answer = (bytes: Buffer, as = format) =>
      Effect.succeed({ bytes, format: as, summary: { read_rows: "1", elapsed_ns: "5" } })
    if (sql.startsWith("slow")) return Effect.zipRight(Deferred.await(release), answer(Buffer.from("done\n")))
    if (sql.startsWith("DROP")) return Effect.fail(new QueryRefused({ message: "only SELECT ... run here" }))
    if (sql.startsWith("SELEC "))
      return Effect.fail(new QueryRefused({ message: "Syntax error: failed at position 1", code: 62 }))
    if (format === "Nope")
      return Effect.fail(new QueryRefused({ message: "unknown output format: Nope", code: 73 }))
    if (sql.startsWith("missing"))
      return Effect.fail(
        new ClickHouseError({
          reason: "Schema",
          code: 60,
          message:
            "Table default.missing does not exist, see /tmp/rtoa-x/chdb/store/abc. Stack trace: 0. foo",
          cause: { type: "UNKNOWN_TABLE" },
        }),
      )
    if (sql.startsWith("binary")) return answer(Buffer.from([0, 1, 2, 255, 254, 10]), "RowBinary")
    return answer(Buffer.from(`${format}|${sql}|${JSON.stringify(params)}`))
  },
})

// The session's own answers: its version and database, and the values of the settings asked about.
const current: Readonly<Record<string, string>> = {
  output_format_json_quote_64bit_integers: "0",
  date_time_input_format: "best_effort",
}
const readOnlyStub = Layer.succeed(ClickHouseReadOnly, {
  mode: "Embedded",
  query: <A>(sql: string, params?: Record<string, unknown>) =>
    Effect.succeed(
      (sql.includes("version()")
        ? [{ version: "26.7.2.1", database: "default" }]
        : ((params?.names ?? []) as ReadonlyArray<string>)
            .filter((n) => n in current)
            .map((name) => ({ name, value: current[name] }))) as unknown as ReadonlyArray<A>,
    ),
  queryText: () => Effect.die("not used"),
  queryBytes: () => Effect.die("not used"),
  command: () => Effect.die("not used"),
  insert: () => Effect.die("not used"),
})

const { handler, dispose } = endpointHandler({ readQueries: readQueriesStub, readOnly: readOnlyStub })
afterAll(() => dispose())

const basic = (user: string, password: string) =>
  `Basic ${Buffer.from(`${user}:${password}`).toString("base64")}`
const auth = { authorization: basic("default", "s3cret") }
const call = (path: string, init: RequestInit = {}, host = "127.0.0.1:8124") =>
  handler(new Request(`http://${host}${path}`, { ...init, headers: { host, ...(init.headers ?? {}) } }))
const get = (path: string, headers: Record<string, string> = auth) => call(path, { headers })
const post = (path: string, body: string, headers: Record<string, string> = auth) =>
  call(path, { method: "POST", body, headers })

/** A ClickHouse error answer: its status, code header and body, checked for ClickHouse's shape. */
const failure = async (response: Response) => {
  const body = await response.text()
  expect(body).toMatch(/^Code: \d+\. DB::Exception: .+\. \([A-Z_]{3,}\) \(version 26\.7\.2\.1\)\n$/s)
  return { status: response.status, code: response.headers.get("x-clickhouse-exception-code"), body }
}

describe("ClickHouse HTTP interface", () => {
  it("answers GET /ping without credentials; GET / without `query` still redirects to the console", async () => {
    const ping = await call("/ping")
    expect(ping.status).toBe(200)
    expect(await ping.text()).toBe("Ok.\n")
    const root = await call("/")
    expect(root.status).toBe(302)
    expect(root.headers.get("location")).toBe("/dashboard/")
  })

  it("accepts basic auth (any user), X-ClickHouse-User/Key and the bearer token; anything else is 516 (403)", async () => {
    for (const headers of [
      auth,
      { authorization: basic("grafana", "s3cret") },
      { "x-clickhouse-user": "default", "x-clickhouse-key": "s3cret" },
      { authorization: "Bearer s3cret" },
    ])
      expect((await get("/?query=SELECT%201", headers)).status).toBe(200)
    for (const headers of [
      {},
      { authorization: basic("default", "wrong") },
      { authorization: basic("default", "s3cre") },
      { authorization: basic("default", "") },
      { "x-clickhouse-user": "default" },
      { "x-clickhouse-user": "default", "x-clickhouse-key": "s3crett" },
      { authorization: "Bearer " },
    ]) {
      const f = await failure(await get("/?query=SELECT%201", headers))
      expect([f.status, f.code]).toEqual([403, "516"])
      expect(f.body).toMatch(/Authentication failed.*\(AUTHENTICATION_FAILED\)/)
    }
    // The token never travels in the URL, not even the right one.
    const inUrl = await failure(await get("/?query=SELECT%201&user=default&password=s3cret", {}))
    expect(inUrl.code).toBe("516")
    expect(inUrl.body).toMatch(/credentials in the URL/)
  })

  it("runs GET ?query= and POST (the `query` parameter, a newline, the body) with ClickHouse's headers", async () => {
    const r = await get("/?query=SELECT%201&query_id=my-id")
    expect(await r.text()).toBe("TabSeparated|SELECT 1|{}")
    expect(r.headers.get("content-type")).toBe("text/tab-separated-values; charset=UTF-8")
    expect(r.headers.get("x-clickhouse-format")).toBe("TabSeparated")
    expect(r.headers.get("x-clickhouse-timezone")).toBe("UTC")
    expect(r.headers.get("x-clickhouse-query-id")).toBe("my-id")
    expect(JSON.parse(r.headers.get("x-clickhouse-summary") ?? "")).toMatchObject({
      read_rows: "1",
      written_rows: "0",
      elapsed_ns: "5",
    })
    expect((await get("/?query=SELECT%201")).headers.get("x-clickhouse-query-id")).toMatch(/^[0-9a-f-]{36}$/)
    expect(await (await post("/?query=SELECT%201", "FORMAT CSV")).text()).toBe(
      "TabSeparated|SELECT 1\nFORMAT CSV|{}",
    )
    expect(await (await post("/", "SELECT 2")).text()).toBe("TabSeparated|SELECT 2|{}")
    const json = await post("/?default_format=JSONEachRow", "SELECT 3")
    expect(json.headers.get("content-type")).toBe("application/x-ndjson; charset=UTF-8")
    expect(await json.text()).toBe("JSONEachRow|SELECT 3|{}")
    const header = await post("/", "SELECT 4", { ...auth, "x-clickhouse-format": "CSV" })
    expect(await header.text()).toBe("CSV|SELECT 4|{}")
  })

  it("passes param_<name> values through as sent and keeps binary results byte for byte", async () => {
    const r = await post(
      "/?param_x=41&param_s=it%5C%27s&param_a=%5B1%2C2%5D",
      "SELECT {x:UInt32}, {s:String}",
    )
    expect(await r.text()).toBe(
      `TabSeparated|SELECT {x:UInt32}, {s:String}|${JSON.stringify({ x: "41", s: "it\\'s", a: "[1,2]" })}`,
    )
    const bad = await failure(await post("/?param_x-y=1", "SELECT 1"))
    expect([bad.status, bad.code]).toEqual([500, "457"])
    const binary = await post("/?default_format=RowBinary", "binary")
    expect(binary.headers.get("content-type")).toBe("application/octet-stream")
    expect(binary.headers.get("x-clickhouse-format")).toBe("RowBinary")
    expect([...new Uint8Array(await binary.arrayBuffer())]).toEqual([0, 1, 2, 255, 254, 10])
  })

  it("serves only the session's database (81, 404)", async () => {
    expect((await post("/?database=default", "SELECT 1")).status).toBe(200)
    expect((await post("/", "SELECT 1", { ...auth, "x-clickhouse-database": "default" })).status).toBe(200)
    const other = await failure(await post("/?database=system", "SELECT 1"))
    expect([other.status, other.code]).toEqual([404, "81"])
    expect(other.body).toMatch(/\(UNKNOWN_DATABASE\)/)
  })

  it("ignores the transport settings clients send, accepts settings equal to the session's, refuses the rest", async () => {
    const harmless =
      "wait_end_of_query=1&session_id=abc&session_timeout=60&send_progress_in_http_headers=1" +
      "&http_headers_progress_interval_ms=120000&enable_http_compression=1&client_protocol_version=54405" +
      "&cancel_http_readonly_queries_on_client_close=1&output_format_json_quote_64bit_integers=0" +
      "&date_time_input_format=best_effort"
    expect((await post(`/?${harmless}`, "SELECT 1")).status).toBe(200)
    for (const setting of [
      "readonly=1",
      "readonly=0",
      "max_result_rows=0",
      "max_execution_time=3600",
      "allow_ddl=1",
    ]) {
      const f = await failure(await post(`/?${setting}`, "SELECT 1"))
      expect([f.status, f.code, setting]).toEqual([500, "164", setting])
      expect(f.body).toMatch(/Cannot modify '\w+' setting in readonly mode.*\(READONLY\)/)
    }
    const changed = await failure(await post("/?output_format_json_quote_64bit_integers=1", "SELECT 1"))
    expect(changed.code).toBe("164")
    const unknown = await failure(await post("/?no_such_setting=1", "SELECT 1"))
    expect([unknown.status, unknown.code]).toEqual([404, "115"])
  })

  it("maps refusals and engine errors to ClickHouse's codes and statuses, without paths", async () => {
    const refused = await failure(await post("/", "DROP TABLE raw_events"))
    expect([refused.status, refused.code]).toEqual([500, "164"])
    expect(refused.body).toMatch(
      /^Code: 164\. DB::Exception: Cannot execute query in readonly mode: only SELECT/,
    )
    const syntax = await failure(await post("/", "SELEC 1"))
    expect([syntax.status, syntax.code]).toEqual([400, "62"])
    expect(syntax.body).toMatch(/\(SYNTAX_ERROR\)/)
    const format = await failure(await post("/?default_format=Nope", "SELECT 1"))
    expect([format.status, format.code]).toEqual([404, "73"])
    const missing = await failure(await post("/", "missing"))
    expect([missing.status, missing.code]).toEqual([404, "60"])
    expect(missing.body).toMatch(/see <path>\. \(UNKNOWN_TABLE\)/)
    expect(missing.body).not.toMatch(/\/tmp|Stack trace/)
    const multipart = await failure(
      await post("/", "--x--", { ...auth, "content-type": "multipart/form-data; boundary=x" }),
    )
    expect([multipart.status, multipart.code]).toEqual([501, "48"])
  })

  it("applies Host and Origin checks, QUERY_MAX_BODY_BYTES and QUERY_MAX_CONCURRENT (shared with /query)", async () => {
    const host = await failure(await call("/?query=SELECT%201", { headers: auth }, "evil.example:8124"))
    expect([host.status, host.code]).toEqual([403, "497"])
    const origin = await failure(await post("/", "SELECT 1", { ...auth, origin: "https://evil.example" }))
    expect([origin.status, origin.code]).toEqual([403, "497"])
    const large = `SELECT '${"x".repeat(2_000)}'`
    const declared = await failure(
      await post("/", large, { ...auth, "content-length": String(large.length) }),
    )
    expect([declared.status, declared.code]).toEqual([413, "229"])
    expect((await failure(await get(`/?query=${encodeURIComponent(large)}`))).code).toBe("229")
    const slow = post("/", "slow")
    await new Promise((r) => setTimeout(r, 50))
    const busy = await failure(await post("/", "SELECT 1"))
    expect([busy.status, busy.code]).toEqual([500, "202"])
    const query = await call("/query", {
      method: "POST",
      body: "SELECT 1",
      headers: { authorization: "Bearer s3cret" },
    })
    expect(query.status).toBe(429)
    Effect.runSync(Deferred.succeed(release, undefined))
    expect((await slow).status).toBe(200)
    expect((await post("/", "SELECT 1")).status).toBe(200)
  })

  it("uses ClickHouse's status per code and Content-Type per format", () => {
    expect([62, 60, 81, 164, 202, 516, 497, 194, 159, 229, 48, 1001].map(httpStatusOf)).toEqual([
      400, 404, 404, 500, 500, 403, 403, 401, 408, 413, 501, 500,
    ])
    expect(
      [
        "TSVWithNames",
        "CSV",
        "CSVWithNames",
        "JSON",
        "JSONCompact",
        "JSONEachRow",
        "Native",
        "Parquet",
        "Pretty",
      ].map(contentTypeOf),
    ).toEqual([
      "text/tab-separated-values; charset=UTF-8",
      "text/csv; charset=UTF-8; header=absent",
      "text/csv; charset=UTF-8; header=present",
      "application/json; charset=UTF-8",
      "application/json; charset=UTF-8",
      "application/x-ndjson; charset=UTF-8",
      "application/octet-stream",
      "application/octet-stream",
      "text/plain; charset=UTF-8",
    ])
  })
})
