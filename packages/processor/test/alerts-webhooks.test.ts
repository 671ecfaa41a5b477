import * as http from "node:http"
import type { AddressInfo } from "node:net"
import { describe, expect, it } from "@effect/vitest"
import { Duration, Effect, Layer, Logger, Schema } from "effect"
import { AlertInputsInMemory, AlertInputsMemory } from "../src/alerts/inputs-memory.ts"
import type { ConsumerLagRule } from "../src/alerts/rules.ts"
import { Alerts, layer as alertsLayer } from "../src/alerts/runner.ts"
import { AlertStateStoreMemory } from "../src/alerts/state-store.ts"
import {
  defaultWebhookOptions,
  makeWebhookSender,
  type WebhookOptions,
  WebhookPayload,
} from "../src/alerts/webhooks.ts"

// Real HTTP receivers on 127.0.0.1 (random ports): each request is recorded, then answered with
// the status `answer` gives, or held open ("hold") until `release`.
interface Received {
  readonly path: string
  readonly contentType: string | undefined
  readonly body: unknown
  readonly at: number
}

const receiver = (answer: (n: number) => number | "hold" = () => 200) =>
  Effect.acquireRelease(
    Effect.async<{
      readonly url: string
      readonly received: Array<Received>
      readonly release: () => void
      readonly server: http.Server
    }>((resume) => {
      const received: Array<Received> = []
      const held: Array<http.ServerResponse> = []
      const server = http.createServer((req, res) => {
        let body = ""
        req.setEncoding("utf8")
        req.on("data", (chunk: string) => {
          body += chunk
        })
        req.on("end", () => {
          received.push({
            path: req.url ?? "",
            contentType: req.headers["content-type"],
            body: JSON.parse(body),
            at: Date.now(),
          })
          const status = answer(received.length)
          if (status === "hold") held.push(res)
          else res.writeHead(status).end()
        })
      })
      server.listen(0, "127.0.0.1", () => {
        const { port } = server.address() as AddressInfo
        resume(
          Effect.succeed({
            url: `http://127.0.0.1:${port}`,
            received,
            server,
            release: () => {
              for (const res of held.splice(0)) res.writeHead(200).end()
            },
          }),
        )
      })
    }),
    ({ server }) =>
      Effect.async<void>((resume) => {
        server.closeAllConnections()
        server.close(() => resume(Effect.void))
      }),
  )

/** Waits (real time) until `ready` holds; fails the test after `within` ms. */
const until = (what: string, ready: () => boolean, within = 5_000) =>
  Effect.gen(function* () {
    const deadline = Date.now() + within
    while (!ready()) {
      if (Date.now() > deadline) return yield* Effect.dieMessage(`timed out waiting for ${what}`)
      yield* Effect.sleep("10 millis")
    }
  })

const captureLogs = () => {
  const lines: Array<{ readonly level: string; readonly message: string }> = []
  const layer = Logger.replace(
    Logger.defaultLogger,
    Logger.make(({ logLevel, message }) => {
      lines.push({ level: logLevel.label, message: [message].flat().map(String).join(" ") })
    }),
  )
  return { lines, layer }
}

const payload = (state: "firing" | "resolved", n = 1): WebhookPayload => ({
  rule: `rule-${n}`,
  kind: "consumer_lag",
  description: "lag over 30 s",
  state,
  previousState: state === "firing" ? "pending" : "firing",
  value: 42,
  threshold: 30,
  message: "largest consumer lag 42s, above 30s",
  time: "2026-11-25T10:00:00.000Z",
})

const fast: WebhookOptions = {
  ...defaultWebhookOptions,
  retryBase: Duration.millis(100),
  timeout: Duration.seconds(1),
}

describe("alert webhooks (real HTTP receivers)", () => {
  it("defaults: 5 s timeout, 1 s backoff doubling, 5 attempts", () => {
    expect(defaultWebhookOptions).toMatchObject({
      timeout: Duration.seconds(5),
      retryBase: Duration.seconds(1),
      attempts: 5,
    })
  })

  it.scopedLive("POSTs the transition as JSON to every URL", () =>
    Effect.gen(function* () {
      const a = yield* receiver()
      const b = yield* receiver()
      const sender = yield* makeWebhookSender(fast)
      yield* sender.send([`${a.url}/hooks/ops`, b.url, b.url], payload("firing"))
      yield* until("both receivers", () => a.received.length === 1 && b.received.length === 1)
      expect(a.received[0]).toMatchObject({ path: "/hooks/ops", contentType: "application/json" })
      expect(Schema.decodeUnknownSync(WebhookPayload)(a.received[0]?.body)).toEqual(payload("firing"))
      // The same URL twice is one delivery.
      yield* Effect.sleep("100 millis")
      expect(b.received).toHaveLength(1)
    }),
  )

  it.scopedLive("retries with exponential backoff after the receiver answers 500 twice", () => {
    const logs = captureLogs()
    return Effect.gen(function* () {
      const r = yield* receiver((n) => (n <= 2 ? 500 : 200))
      const sender = yield* makeWebhookSender(fast)
      yield* sender.send([r.url], payload("resolved"))
      yield* until("the third attempt", () => r.received.length === 3)
      const [first, second, third] = r.received.map((x) => x.at)
      expect((second ?? 0) - (first ?? 0)).toBeGreaterThanOrEqual(90)
      expect((third ?? 0) - (second ?? 0)).toBeGreaterThanOrEqual(190)
      expect(r.received.map((x) => x.body)).toEqual([
        payload("resolved"),
        payload("resolved"),
        payload("resolved"),
      ])
      yield* Effect.sleep("400 millis")
      expect(r.received).toHaveLength(3)
      expect(logs.lines.filter((l) => l.message.includes("gave up"))).toEqual([])
    }).pipe(Effect.provide(logs.layer))
  })

  it.scopedLive("logs a delivery that finally failed, naming the origin only", () => {
    const logs = captureLogs()
    return Effect.gen(function* () {
      const r = yield* receiver(() => 503)
      const sender = yield* makeWebhookSender({ ...fast, retryBase: Duration.millis(20), attempts: 3 })
      yield* sender.send([`${r.url}/secret-token`], payload("firing", 7))
      yield* until("the failure log", () => logs.lines.some((l) => l.message.includes("gave up")))
      expect(r.received).toHaveLength(3)
      const line = logs.lines.find((l) => l.message.includes("gave up"))
      expect(line?.level).toBe("ERROR")
      expect(line?.message).toBe(
        `webhook ${r.url}/…: gave up on rule-7 pending -> firing at 2026-11-25T10:00:00.000Z after 3 attempts: HTTP 503`,
      )
      expect(line?.message).not.toContain("secret-token")
    }).pipe(Effect.provide(logs.layer))
  })

  it.scopedLive("a full queue drops the oldest delivery with a warning", () => {
    const logs = captureLogs()
    return Effect.gen(function* () {
      const r = yield* receiver((n) => (n === 1 ? "hold" : 200))
      const sender = yield* makeWebhookSender({
        ...fast,
        queueCapacity: 2,
        concurrency: 1,
        timeout: Duration.seconds(10),
      })
      yield* sender.send([r.url], payload("firing", 1))
      // The only sender is now busy with #1; #2..#5 queue up in a queue of 2.
      yield* until("the first delivery", () => r.received.length === 1)
      const started = Date.now()
      for (const n of [2, 3, 4, 5]) yield* sender.send([r.url], payload("firing", n))
      expect(Date.now() - started).toBeLessThan(100)
      expect(logs.lines.filter((l) => l.level === "WARN").map((l) => l.message)).toEqual([
        `webhook ${r.url}/…: queue full (2), dropped the oldest delivery: rule-2 pending -> firing at 2026-11-25T10:00:00.000Z`,
        `webhook ${r.url}/…: queue full (2), dropped the oldest delivery: rule-3 pending -> firing at 2026-11-25T10:00:00.000Z`,
      ])
      r.release()
      yield* until("the queued deliveries", () => r.received.length === 3)
      expect(r.received.map((x) => (x.body as WebhookPayload).rule)).toEqual(["rule-1", "rule-4", "rule-5"])
    }).pipe(Effect.provide(logs.layer))
  })

  it.scopedLive("a receiver that never answers delays neither the evaluations nor another receiver", () => {
    const logs = captureLogs()
    return Effect.gen(function* () {
      const silent = yield* receiver(() => "hold")
      const good = yield* receiver()
      const rule: ConsumerLagRule = {
        name: "lag",
        description: "lag over 30 s",
        kind: "consumer_lag",
        forMs: 0,
        seconds: 30,
        webhooks: [`${good.url}/rule`],
      }
      const settings = { rules: [rule], interval: Duration.millis(50), webhookUrls: [silent.url] }
      const context = yield* Layer.build(
        alertsLayer(settings, { ...fast, attempts: 2 }).pipe(
          Layer.provide(AlertStateStoreMemory),
          Layer.provideMerge(AlertInputsInMemory),
        ),
      )
      const alerts = Effect.provide(Alerts, context)
      const inputs = Effect.provide(AlertInputsMemory, context)

      yield* Effect.flatMap(inputs, (m) => m.setLagSeconds(120))
      yield* until("firing at the good receiver", () => good.received.length === 1, 1_000)
      expect(silent.received).toHaveLength(1)
      // While the silent receiver holds its request, the rule clears and resolves as fast as ever.
      const cleared = Date.now()
      yield* Effect.flatMap(inputs, (m) => m.setLagSeconds(1))
      yield* until("resolved at the good receiver", () => good.received.length === 2, 1_000)
      expect(Date.now() - cleared).toBeLessThan(500)
      expect(good.received.map((x) => (x.body as WebhookPayload).state)).toEqual(["firing", "resolved"])
      const status = yield* Effect.flatMap(alerts, (a) => a.status)
      expect(status.alerts[0]?.state).toBe("resolved")

      // The silent one times out (1 s), is retried once, and its failure is logged.
      yield* until("the timeout log", () => logs.lines.some((l) => l.message.includes("gave up")), 4_000)
      expect(silent.received.length).toBeGreaterThanOrEqual(3)
      expect(logs.lines.filter((l) => l.message.includes("gave up")).map((l) => l.message)).toContainEqual(
        expect.stringContaining("after 2 attempts: no answer within 1s"),
      )
    }).pipe(Effect.provide(logs.layer))
  })
})
