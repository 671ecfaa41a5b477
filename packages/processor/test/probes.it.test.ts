import * as fs from "node:fs"
import * as net from "node:net"
import * as path from "node:path"
import { runCli, tempDir } from "@rtoa/core/test/support/it.ts"
import { Partitioners } from "kafkajs"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { eventually, type LiveProcessor, startLiveProcessor } from "./support/live-processor.ts"

/**
 * Hostile requests against the real processor's operator endpoint, with its generated token,
 * while ingestion runs: each probe is refused with a clear status and message, and the events
 * produced meanwhile still arrive within seconds.
 */

let processor: LiveProcessor
let token: string
let dataDir: string
let base: string

beforeAll(async () => {
  dataDir = tempDir("probes")
  processor = await startLiveProcessor("probes", {
    DATA_DIR: dataDir,
    PROCESSOR_HTTP_TOKEN: "",
    QUERY_TIMEOUT_SECONDS: "2",
    QUERY_MAX_CONCURRENT: "2",
    QUERY_MAX_MEMORY_BYTES: String(128 * 1024 * 1024),
  })
  token = fs.readFileSync(path.join(dataDir, "processor-http.token"), "utf8").trim()
  base = `http://127.0.0.1:${processor.port}`
}, 120_000)

afterAll(async () => {
  await processor?.stop()
})

const post = (sql: string, headers: Record<string, string> = {}, query = "?format=TSV") =>
  fetch(`${base}/query${query}`, {
    method: "POST",
    body: sql,
    headers: { authorization: `Bearer ${token}`, ...headers },
    signal: AbortSignal.timeout(20_000),
  }).then(async (r) => ({ status: r.status, body: await r.text() }))

/** A raw HTTP/1.1 request, so Host and the body can be anything a hostile client sends. */
const raw = (request: string | Buffer, closeAfterMs = 15_000) =>
  new Promise<{ readonly response: string; readonly closedAfterMs: number }>((resolve) => {
    const started = Date.now()
    const socket = net.connect(processor.port, "127.0.0.1")
    let response = ""
    socket.on("data", (d) => {
      response += d.toString()
    })
    // The server may answer and close while a large body is still being written: keep what it said.
    socket.on("error", () => socket.destroy())
    socket.on("close", () => resolve({ response, closedAfterMs: Date.now() - started }))
    socket.write(request)
    setTimeout(() => socket.destroy(), closeAfterMs)
  })

describe("operator endpoint probes (real processor)", () => {
  it("keeps its generated token in a 0600 file that make chclient picks up", async () => {
    const file = path.join(dataDir, "processor-http.token")
    expect(fs.statSync(file).mode & 0o777).toBe(0o600)
    expect(token).toMatch(/^[A-Za-z0-9_-]{40,}$/)
    const cli = await runCli(
      { ...processor.env, PROCESSOR_HTTP_TOKEN: "" },
      "chclient",
      "-q",
      "SELECT 41 + 1 AS answer",
    )
    expect(cli.stdout, cli.stderr).toMatch(/42/)
    expect(processor.log()).not.toContain(token)
  })

  it("refuses every hostile request while ingestion keeps its pace", async () => {
    const producer = processor.kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner })
    await producer.connect()
    const stamp = Date.now()
    let sent = 0
    let producing = true
    const feeding = (async () => {
      while (producing) {
        const messages = Array.from({ length: 50 }, (_, i) => ({
          value: JSON.stringify({
            event_id: `probe-${stamp}-${sent + i}`,
            user_id: "u",
            event_time: new Date().toISOString(),
          }),
        }))
        await producer.send({ topic: processor.topic, messages })
        sent += messages.length
        await new Promise((r) => setTimeout(r, 100))
      }
    })()

    const outfile = path.join(tempDir("outfile"), ".env")
    // One at a time: QUERY_MAX_CONCURRENT is tested on its own below.
    const probes: Array<[string, () => Promise<{ status: number; body: string }>, number, RegExp]> = [
      [
        "INTO OUTFILE",
        () => post(`SELECT 'x' INTO OUTFILE '${outfile}' FORMAT RawBLOB`),
        400,
        /INTO OUTFILE is not allowed/,
      ],
      ["multi-statement", () => post("USE system; SELECT 1"), 400, /Multi-statements are not allowed/],
      ["USE", () => post("USE system"), 400, /only SELECT/],
      ["SET", () => post("SET max_memory_usage = 0"), 400, /only SELECT/],
      [
        "SETTINGS",
        () => post("SELECT 1 SETTINGS max_memory_usage = 0"),
        400,
        /SETTINGS clause|Cannot modify/,
      ],
      ["file()", () => post("SELECT * FROM file('/etc/passwd', 'LineAsString')"), 400, /readonly/i],
      ["url()", () => post("SELECT * FROM url('http://127.0.0.1:1/x', 'LineAsString')"), 400, /readonly/i],
      ["DDL", () => post("DROP TABLE raw_events"), 400, /only SELECT/],
      ["INSERT", () => post("INSERT INTO raw_events (event_id) VALUES ('x')"), 400, /only SELECT/],
      ["format injection", () => post("SELECT 1", {}, "?format=TSV%3BDROP"), 400, /unknown output format/],
      ["no token", () => post("SELECT 1", { authorization: "" }), 401, /bearer token/],
      [
        "wrong token",
        () => post("SELECT 1", { authorization: `Bearer ${token.slice(0, -1)}x` }),
        401,
        /bearer token/,
      ],
      [
        "cross-origin",
        () => post("SELECT 1", { origin: "http://evil.example", "content-type": "text/plain" }),
        403,
        /cross-origin/,
      ],
      [
        "heavy query",
        () => post("SELECT count() FROM numbers(100000000000) WHERE sipHash64(number) = 0"),
        400,
        /Timeout|elapsed/i,
      ],
      [
        "huge memory",
        () => post("SELECT groupArray(toString(number)) FROM numbers(100000000)"),
        400,
        /memory limit/i,
      ],
    ]
    for (const [name, probe, status, message] of probes) {
      const r = await probe()
      expect(r.status, `${name}: ${r.body}`).toBe(status)
      expect(r.body, name).toMatch(message)
      expect(r.body, `${name} leaks a path`).not.toContain(dataDir)
    }
    expect(fs.existsSync(outfile)).toBe(false)
    expect((await post("SELECT currentDatabase()")).body).toBe("default\n")

    // DNS rebinding: a page on attacker.example resolving to 127.0.0.1 sends its own Host.
    const rebound = await raw(
      `GET /metrics HTTP/1.1\r\nHost: attacker.example:${processor.port}\r\nAuthorization: Bearer ${token}\r\nConnection: close\r\n\r\n`,
    )
    expect(rebound.response).toMatch(/^HTTP\/1\.1 403/)
    // A 10 MB body, declared or chunked: refused, not buffered. The server answers 413 and closes;
    // while the client is still writing, the close can reset the connection before the answer is
    // read, so an empty answer counts too. A server that took the body would have run it (400).
    const large = "x".repeat(10 * 1024 * 1024)
    const refusedLarge = /^(HTTP\/1\.1 413[\s\S]*)?$/
    const declared = await raw(
      `POST /query HTTP/1.1\r\nHost: 127.0.0.1:${processor.port}\r\nAuthorization: Bearer ${token}\r\nContent-Length: ${large.length}\r\nConnection: close\r\n\r\n${large}`,
    )
    expect(declared.response).toMatch(refusedLarge)
    expect((await post(`SELECT '${"y".repeat(70 * 1024)}'`)).status).toBe(413)
    const chunked = await raw(
      `POST /query HTTP/1.1\r\nHost: 127.0.0.1:${processor.port}\r\nAuthorization: Bearer ${token}\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n${(10 * 1024 * 1024).toString(16)}\r\n${large}\r\n0\r\n\r\n`,
    )
    expect(chunked.response).toMatch(refusedLarge)
    // 40 KB of spaces after FORMAT: the old regex took half a second of event loop.
    const started = Date.now()
    const spaces = await post(`SELECT 1 FORMAT TSV${" ".repeat(40 * 1024)}x`)
    expect(spaces.status).toBe(400)
    expect(Date.now() - started).toBeLessThan(1_000)
    // Concurrency: more heavy queries than QUERY_MAX_CONCURRENT at once; the extra ones get 429.
    const burst = await Promise.all(
      Array.from({ length: 5 }, () =>
        post("SELECT count() FROM numbers(100000000000) WHERE sipHash64(number) = 0"),
      ),
    )
    expect(burst.filter((r) => r.status === 429).length).toBeGreaterThanOrEqual(3)

    producing = false
    await feeding
    await producer.disconnect()
    const lastSend = Date.now()
    await eventually(
      "every event produced during the probes stored",
      async () => {
        const r = await post(`SELECT count() FROM raw_events WHERE event_id LIKE 'probe-${stamp}-%'`)
        return Number(r.body) === sent ? true : undefined
      },
      10_000,
    )
    expect(Date.now() - lastSend).toBeLessThan(5_000)
    expect(sent).toBeGreaterThan(200)
    expect(processor.alive()).toBe(true)
  })

  it("closes a slow client's connection (headers within 10 s)", async () => {
    const slow = await raw(`GET /health HTTP/1.1\r\nHost: 127.0.0.1:${processor.port}\r\nX-Slow: `, 30_000)
    expect(slow.closedAfterMs).toBeLessThan(20_000)
    expect(slow.response).not.toMatch(/200 OK/)
  }, 40_000)
})
