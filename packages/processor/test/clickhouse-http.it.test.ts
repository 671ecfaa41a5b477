import { execFile } from "node:child_process"
import * as fs from "node:fs"
import * as path from "node:path"
import { promisify } from "node:util"
import {
  type ClickHouseClient,
  ClickHouseError,
  ClickHouseLogLevel,
  createClient as createClientLogging,
} from "@clickhouse/client"
import { repoRoot, tempDir } from "@rtoa/core/test/support/it.ts"
import { Partitioners } from "kafkajs"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { eventually, type LiveProcessor, startLiveProcessor } from "./support/live-processor.ts"

/**
 * Official ClickHouse clients, unmodified, against the real processor's ClickHouse HTTP
 * interface: @clickhouse/client (JavaScript) and clickhouse-connect (Python, installed by
 * `make setup` into .tools/python from PyPI). Both connect with username "default" and the
 * endpoint's token as the password, read what the processor stored, and are refused writes.
 */

const python = process.env.RTOA_TEST_PYTHON ?? path.join(repoRoot, ".tools/python/bin/python")
const probeScript = path.join(import.meta.dirname, "python/clickhouse_connect_probe.py")

// The refusals below are expected: the client need not log each one.
const createClient = (config: Parameters<typeof createClientLogging>[0]) =>
  createClientLogging({ ...config, log: { level: ClickHouseLogLevel.OFF } })

let processor: LiveProcessor
let client: ClickHouseClient
const prefix = `chhttp-${Date.now()}`
const time = (i: number) => new Date(Date.UTC(2026, 10, 25, 10, 0, i)).toISOString()

beforeAll(async () => {
  processor = await startLiveProcessor("chhttp")
  client = createClient({
    url: `http://127.0.0.1:${processor.port}`,
    username: "default",
    password: processor.token,
  })
  const producer = processor.kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner })
  await producer.connect()
  await producer.send({
    topic: processor.topic,
    messages: Array.from({ length: 6 }, (_, i) => ({
      value: JSON.stringify({
        event_id: `${prefix}-${i}`,
        user_id: i % 2 === 0 ? "u-ch" : "u-other",
        event_type: "click",
        event_time: time(i),
      }),
    })),
  })
  await producer.disconnect()
  await eventually("the events stored", async () => {
    const rows = await processor.rows(`SELECT count() AS n FROM raw_events WHERE event_id LIKE '${prefix}-%'`)
    return Number(rows[0]?.n) === 6 ? true : undefined
  })
}, 120_000)

afterAll(async () => {
  await client?.close()
  await processor?.stop()
})

/** The error a call ends with, as the client parsed it. */
const failure = (run: () => Promise<unknown>) =>
  run().then(
    () => undefined,
    (e: unknown) => e,
  )

describe("official ClickHouse clients on the processor's endpoint", () => {
  it("@clickhouse/client: ping, query with query_params, binary formats, refusals as ClickHouseErrors", async () => {
    expect(await client.ping()).toEqual({ success: true })
    const result = await client.query({
      query:
        "SELECT event_id, user_id FROM raw_events FINAL WHERE event_id LIKE {p:String} AND user_id = {u:String} ORDER BY event_id",
      format: "JSONEachRow",
      query_params: { p: `${prefix}-%`, u: "u-ch" },
    })
    expect(await result.json()).toEqual(
      [0, 2, 4].map((i) => ({ event_id: `${prefix}-${i}`, user_id: "u-ch" })),
    )
    expect(result.response_headers["x-clickhouse-format"]).toBe("JSONEachRow")
    const strings = await client.query({
      query: "SELECT {s:String} AS s, {a:Array(String)} AS a",
      format: "JSONEachRow",
      query_params: { s: "it's\t\\", a: ["it's", "b\\"] },
    })
    expect(await strings.json()).toEqual([{ s: "it's\t\\", a: ["it's", "b\\"] }])

    // Binary results come back as the engine wrote them.
    const bytes = async (query: string) => {
      const rs = await client.exec({ query })
      const chunks: Array<Buffer> = []
      for await (const chunk of rs.stream) chunks.push(chunk as Buffer)
      return Buffer.concat(chunks)
    }
    expect([...(await bytes("SELECT toUInt8(255) AS x, 'é' AS s FORMAT RowBinary"))]).toEqual([
      255, 2, 0xc3, 0xa9,
    ])
    const parquet = await bytes("SELECT number FROM numbers(3) FORMAT Parquet")
    expect([parquet.subarray(0, 4).toString(), parquet.subarray(-4).toString()]).toEqual(["PAR1", "PAR1"])

    const outfile = path.join(tempDir("chhttp-outfile"), "out.txt")
    for (const query of [
      "INSERT INTO raw_events (event_id) VALUES ('x')",
      "DROP TABLE raw_events",
      `SELECT 1 INTO OUTFILE '${outfile}'`,
      "SYSTEM SHUTDOWN",
    ]) {
      const e = await failure(() => client.exec({ query }))
      expect(e, query).toBeInstanceOf(ClickHouseError)
      expect((e as ClickHouseError).code, query).toBe("164")
      expect((e as ClickHouseError).type, query).toBe("READONLY")
    }
    expect(fs.existsSync(outfile)).toBe(false)
    const unknown = await failure(() => client.query({ query: "SELECT * FROM no_such_table" }))
    expect((unknown as ClickHouseError).code).toBe("60")
    const limit = await failure(() =>
      client.query({ query: "SELECT 1", clickhouse_settings: { max_result_rows: "0" } }),
    )
    expect((limit as ClickHouseError).code).toBe("164")

    const wrong = createClient({ url: `http://127.0.0.1:${processor.port}`, password: `${processor.token}x` })
    const denied = await failure(() => wrong.query({ query: "SELECT 1" }))
    expect(denied).toBeInstanceOf(ClickHouseError)
    expect((denied as ClickHouseError).code).toBe("516")
    await wrong.close()
  })

  it("clickhouse-connect (Python): connects, reads Native with server-side parameters, is refused writes", async () => {
    if (!fs.existsSync(python))
      throw new Error(
        `${python} is missing: run make setup (it installs clickhouse-connect into .tools/python)`,
      )
    const { stdout } = await promisify(execFile)(
      python,
      [probeScript, "127.0.0.1", String(processor.port), processor.token, prefix],
      { timeout: 60_000 },
    )
    // DateTime64 in UTC comes back as a naive datetime (the server's time zone is UTC).
    expect(JSON.parse(stdout)).toEqual({
      server_version: expect.stringMatching(/^\d+\.\d+/),
      ping: true,
      events: [0, 2, 4].map((i) => [`${prefix}-${i}`, "u-ch", "click", time(i).slice(0, 19)]),
      strings: ["it's\t\\", ["it's", "b\\"]],
      drop: { code: 164, name: "READONLY" },
      insert: { code: 164, name: "READONLY" },
      wrong_password: { code: 516, name: "AUTHENTICATION_FAILED" },
    })
    expect(processor.log()).not.toContain(processor.token)
  })
})
