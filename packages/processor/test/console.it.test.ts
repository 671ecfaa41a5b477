import * as fs from "node:fs"
import * as http from "node:http"
import * as path from "node:path"
import { tempDir } from "@rtoa/core/test/support/it.ts"
import { Partitioners } from "kafkajs"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { eventually, type LiveProcessor, startLiveProcessor } from "./support/live-processor.ts"

/**
 * The console's JSON API and event stream on the real processor, broker and engine: numbers it
 * shows equal what was sent, filters change them, the stream pushes health and new data, and
 * the session cookie works only as a cookie from this origin.
 */

let processor: LiveProcessor
let base: string
const minute = Math.floor((Date.now() - 3 * 60_000) / 60_000) * 60_000
// A real webhook receiver for the alert rule below.
const hooks: Array<Record<string, unknown>> = []
const receiver = http.createServer((req, res) => {
  let body = ""
  req.on("data", (d: Buffer) => {
    body += d.toString()
  })
  req.on("end", () => {
    hooks.push(JSON.parse(body) as Record<string, unknown>)
    res.end("ok")
  })
})

beforeAll(async () => {
  await new Promise<void>((r) => receiver.listen(0, "127.0.0.1", r))
  const address = receiver.address()
  const port = typeof address === "object" && address !== null ? address.port : 0
  const rules = path.join(tempDir("alerts"), "alerts.yaml")
  fs.writeFileSync(
    rules,
    `rules:
  - name: dead_letters_high
    description: More than a fifth of the records refused over a minute
    kind: dead_letter_ratio
    for: 0s
    ratio: 0.2
    window: 1m
    webhooks: [http://127.0.0.1:${port}/hook]
`,
  )
  processor = await startLiveProcessor("console", {
    KAFKA_TOPIC_PARTITIONS: "2",
    ALERT_RULES_FILE: rules,
    ALERT_EVALUATION_INTERVAL_MS: "1000",
  })
  base = `http://127.0.0.1:${processor.port}`
}, 120_000)

afterAll(async () => {
  await processor?.stop()
  receiver.close()
})

const api = async <A>(route: string, init: RequestInit = {}) => {
  const r = await fetch(`${base}${route}`, {
    ...init,
    headers: { authorization: `Bearer ${processor.token}`, ...(init.headers ?? {}) },
  })
  if (!r.ok) throw new Error(`${route}: ${r.status} ${await r.text()}`)
  return (await r.json()) as A
}

interface Metrics {
  time: Array<number>
  channels: Array<string>
  events: Record<string, Array<number | null>>
  users: Record<string, Array<number | null>>
  eventsTotal: Array<number | null>
  usersTotal: Array<number | null>
}

const send = async (values: ReadonlyArray<string | null>) => {
  const producer = processor.kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner })
  await producer.connect()
  await producer.send({ topic: processor.topic, messages: values.map((value) => ({ value })) })
  await producer.disconnect()
}

const event = (id: string, user: string, channel: string, type: string) =>
  JSON.stringify({
    event_id: id,
    user_id: user,
    dimension_channel: channel,
    event_type: type,
    event_source: "console-test",
    event_time: new Date(minute + 5_000).toISOString(),
  })

describe("the console API (real processor)", () => {
  it("shows exactly the events and users sent per minute and channel; filters and duplicates as expected", async () => {
    const messages: Array<string> = []
    for (let i = 0; i < 30; i++)
      messages.push(event(`web-${i}`, `u${i % 7}`, "Web", i % 2 === 0 ? "click" : "view"))
    for (let i = 0; i < 12; i++) messages.push(event(`mob-${i}`, `u${i % 5}`, "Mobile", "click"))
    // Ten resends of events already sent: received, not stored twice.
    messages.push(...messages.slice(0, 10))
    await send(messages)
    const range = `from=${minute / 1_000 - 600}&to=${minute / 1_000 + 600}&step=60`
    const m = await eventually(
      "the minute's counts",
      async () => {
        const r = await api<Metrics>(`/api/metrics?${range}`)
        const i = r.time.indexOf(minute / 1_000)
        // The per-channel and total series are separate reads: wait until both have the minute.
        return r.eventsTotal[i] === 42 && r.events.Web?.[i] === 30 && r.events.Mobile?.[i] === 12
          ? { r, i }
          : undefined
      },
      20_000,
    )
    expect(m.r.channels).toEqual(["Mobile", "Web"])
    expect(m.r.events.Web?.[m.i]).toBe(30)
    expect(m.r.events.Mobile?.[m.i]).toBe(12)
    expect(m.r.users.Web?.[m.i]).toBe(7)
    expect(m.r.users.Mobile?.[m.i]).toBe(5)
    expect(m.r.usersTotal[m.i]).toBe(7)
    // The same number through SQL.
    const [sql] = await processor.rows(
      `SELECT uniqExactMerge(event_count_state) AS n FROM metrics_minutely WHERE time_window = toDateTime(${minute / 1_000}, 'UTC')`,
    )
    expect(Number(sql?.n)).toBe(42)
    // Filters.
    const clicks = await api<Metrics>(`/api/metrics?${range}&type=click`)
    expect(clicks.eventsTotal[m.i]).toBe(27)
    const none = await api<Metrics>(`/api/metrics?${range}&source=elsewhere`)
    expect(none.eventsTotal[m.i]).toBeNull()
    const dims = await api<{ channels: Array<string>; types: Array<string> }>(`/api/dimensions?${range}`)
    expect(dims).toMatchObject({ channels: ["Mobile", "Web"], types: ["click", "view"] })
    // Integrity: 52 received, 42 stored, 10 duplicates absorbed; all late (sent 3 minutes after).
    const integrity = await api<Record<string, Array<number | null>>>(`/api/integrity?${range}`)
    const at = (k: string) => integrity[k]?.[m.i]
    expect([at("received"), at("stored"), at("duplicates"), at("lateEvents")]).toEqual([52, 42, 10, 52])
    expect(at("maxLatenessMs")).toBeGreaterThan(60_000)
    // Comparison with the day before: no data then.
    const compared = await api<{ compare?: { eventsTotal: Array<number | null> } }>(
      `/api/metrics?${range}&compare=1d`,
    )
    expect(compared.compare?.eventsTotal[m.i]).toBeNull()
  })

  it("filtered users and events per channel and in total equal the same merge of the states in SQL", async () => {
    // A minute of its own: users shared across channels, sources and types, so no series adds up.
    const at = minute - 60_000
    const messages = Array.from({ length: 90 }, (_, i) =>
      JSON.stringify({
        event_id: `mix-${i}`,
        user_id: `m${(i * 7) % 23}`,
        dimension_channel: ["Web", "Mobile", "API"][i % 3],
        event_type: ["click", "view"][Math.floor(i / 3) % 2],
        event_source: ["src-a", "src-b"][Math.floor(i / 6) % 2],
        event_time: new Date(at + 1_000 + i).toISOString(),
      }),
    )
    await send(messages)
    const t = at / 1_000
    const range = `from=${t - 3_600}&to=${t + 3_600}`
    await eventually(
      "the minute's counts",
      async () => ((await api<Metrics>(`/api/metrics?${range}`)).eventsTotal[60] === 90 ? true : undefined),
      20_000,
    )
    const states = async (where: string, group: string) =>
      processor.rows(
        `SELECT ${group === "" ? "'' AS c" : `${group} AS c`}, uniqExactMerge(event_count_state) AS events,
                uniqMerge(unique_users_state) AS users
         FROM metrics_minutely WHERE ${where} ${group === "" ? "" : `GROUP BY ${group}`}`,
      )
    for (const f of [
      {},
      { source: "src-a" },
      { type: "view" },
      { source: "src-b", type: "click" },
    ] as const) {
      const q = Object.entries(f)
        .map(([k, v]) => `&${k}=${v}`)
        .join("")
      const where = [
        `time_window = toDateTime(${t}, 'UTC')`,
        ...Object.entries(f).map(([k, v]) => `event_${k} = '${v}'`),
      ].join(" AND ")
      // The default step for two hours is a minute: the point at index 60 is the minute.
      const m = await api<Metrics & { step: number }>(`/api/metrics?${range}${q}`)
      expect(m.step).toBe(60)
      const i = m.time.indexOf(t)
      const perChannel = await states(where, "dimension_channel")
      const [total] = await states(where, "")
      expect(perChannel.length, JSON.stringify(f)).toBeGreaterThan(1)
      for (const row of perChannel) {
        const c = String(row.c)
        expect([m.events[c]?.[i], m.users[c]?.[i]], `${c} ${JSON.stringify(f)}`).toEqual([
          Number(row.events),
          Number(row.users),
        ])
      }
      expect([m.eventsTotal[i], m.usersTotal[i]], JSON.stringify(f)).toEqual([
        Number(total?.events),
        Number(total?.users),
      ])
      // Users over all channels are fewer than their sum: a total, not an addition.
      expect(m.usersTotal[i]).toBeLessThan(perChannel.reduce((n, r) => n + Number(r.users), 0))
    }
    // Longer than a day: a coarser step, users merged from the states over each point's minutes.
    const long = await api<Metrics & { step: number }>(
      `/api/metrics?from=${t - 2 * 86_400}&to=${t + 60}&type=view`,
    )
    expect(long.step).toBeGreaterThan(60)
    const p = long.time.findIndex((x) => x <= t && t < x + long.step)
    const bucket = `time_window >= toDateTime(${long.time[p]}, 'UTC') AND time_window < toDateTime(${(long.time[p] ?? 0) + long.step}, 'UTC') AND event_type = 'view'`
    const [all] = await states(bucket, "")
    expect([long.eventsTotal[p], long.usersTotal[p]]).toEqual([Number(all?.events), Number(all?.users)])
    for (const row of await states(bucket, "dimension_channel"))
      expect(long.users[String(row.c)]?.[p]).toBe(Number(row.users))
  })

  it("refuses bad ranges and never splices parameters into SQL", async () => {
    const bad = await fetch(`${base}/api/metrics?from=x&to=1`, {
      headers: { authorization: `Bearer ${processor.token}` },
    })
    expect(bad.status).toBe(400)
    const inject = await api<Metrics>(
      `/api/metrics?from=${minute / 1_000 - 600}&to=${minute / 1_000 + 600}&source=${encodeURIComponent("x' OR 1=1 --")}`,
    )
    expect(inject.eventsTotal.every((v) => v === null)).toBe(true)
  })

  it("lists dead letters with an escaped preview and counts them by reason", async () => {
    await send(["\u001b[2J\u001b[31m<script>alert(1)</script>", null])
    const dl = await eventually("the dead letters", async () => {
      const r = await api<{
        counts: Record<string, number>
        latest: Array<{ reason: string; preview: string }>
      }>("/api/dead-letters?limit=10")
      return r.latest.length >= 2 ? r : undefined
    })
    expect(dl.counts).toMatchObject({ undecodable: 1, empty: 1 })
    const preview = dl.latest.find((l) => l.reason === "undecodable")?.preview ?? ""
    expect(preview).not.toContain("\u001b")
    expect(preview).toContain("\\u001b[2J")
  })

  it("reports health, and the pipeline's history from ingest_stats", async () => {
    const h = await api<{ state: string; freshnessSloMs: number; lag: Array<unknown>; dataVersion: number }>(
      "/api/health",
    )
    expect(h).toMatchObject({ state: "running", freshnessSloMs: 5_000 })
    expect(h.dataVersion).toBeGreaterThan(0)
    const now = Math.floor(Date.now() / 1_000)
    const history = await eventually(
      "a stats row",
      async () => {
        const r = await api<{ consumedPerSecond: Array<number | null> }>(
          `/api/health/history?from=${now - 600}&to=${now + 60}&step=60`,
        )
        return r.consumedPerSecond.some((v) => (v ?? 0) > 0) ? r : undefined
      },
      20_000,
    )
    expect(history.consumedPerSecond.length).toBeGreaterThan(0)
  })

  it("pushes health and new data over server-sent events", async () => {
    const controller = new AbortController()
    const r = await fetch(`${base}/api/stream`, {
      headers: { authorization: `Bearer ${processor.token}` },
      signal: controller.signal,
    })
    expect(r.headers.get("content-type")).toMatch(/text\/event-stream/)
    const reader = r.body?.getReader()
    const seen = new Set<string>()
    let text = ""
    const started = Date.now()
    await send([event(`sse-${Date.now()}`, "u-sse", "API", "click")])
    while (
      reader !== undefined &&
      Date.now() - started < 15_000 &&
      !(seen.has("health") && seen.has("data"))
    ) {
      const { value, done } = await reader.read()
      if (done) break
      text += new TextDecoder().decode(value)
      for (const m of text.matchAll(/^event: (\S+)$/gm)) seen.add(m[1] ?? "")
    }
    controller.abort()
    expect([...seen]).toEqual(expect.arrayContaining(["health", "data"]))
  })

  it("an alert rule fires on a burst of refused records, shows in /api/alerts and reaches its webhook", async () => {
    await send(Array.from({ length: 40 }, (_, i) => `not json ${i}`))
    const fired = await eventually(
      "the webhook call",
      async () => hooks.find((h) => h.state === "firing"),
      30_000,
    )
    expect(fired).toMatchObject({ rule: "dead_letters_high", kind: "dead_letter_ratio", previousState: "ok" })
    const alerts = await api<{ alerts: Array<{ name: string; state: string }> }>("/api/alerts")
    expect(alerts.alerts.find((a) => a.name === "dead_letters_high")?.state).toBe("firing")
  })

  it("login sets a session cookie that works from this origin only", async () => {
    const wrong = await fetch(`${base}/api/login`, {
      method: "POST",
      body: JSON.stringify({ token: "nope" }),
    })
    expect(wrong.status).toBe(401)
    const ok = await fetch(`${base}/api/login`, {
      method: "POST",
      body: JSON.stringify({ token: processor.token }),
    })
    expect(ok.status).toBe(204)
    const cookie = ok.headers.get("set-cookie") ?? ""
    expect(cookie).toMatch(/HttpOnly/)
    expect(cookie).toMatch(/SameSite=Strict/)
    const session = cookie.split(";")[0] ?? ""
    expect((await fetch(`${base}/api/health`, { headers: { cookie: session } })).status).toBe(200)
    expect((await fetch(`${base}/api/health`, { headers: { cookie: "rtoa_session=forged" } })).status).toBe(
      401,
    )
    const crossSite = await fetch(`${base}/api/health`, {
      headers: { cookie: session, origin: "http://evil.example" },
    })
    expect(crossSite.status).toBe(403)
  })

  // Last: it stops the processor.
  it("exits promptly on SIGTERM while a console's event stream is open", async () => {
    const r = await fetch(`${base}/api/stream`, { headers: { authorization: `Bearer ${processor.token}` } })
    const reader = r.body?.getReader()
    await reader?.read()
    const t0 = Date.now()
    processor.proc.child.kill("SIGTERM")
    const exit = await Promise.race([
      processor.proc.exited.then(() => "exited" as const),
      new Promise<"still running">((resolve) => setTimeout(() => resolve("still running"), 15_000).unref()),
    ])
    expect(exit).toBe("exited")
    expect(processor.proc.child.exitCode).toBe(0)
    expect(Date.now() - t0).toBeLessThan(15_000)
    // The client sees the stream end instead of hanging.
    let ended = false
    while (reader !== undefined && !ended)
      ended = await reader.read().then(
        (x) => x.done,
        () => true,
      )
    expect(ended).toBe(true)
  }, 30_000)
})
