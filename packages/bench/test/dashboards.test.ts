import * as http from "node:http"
import type { AddressInfo } from "node:net"
import { Effect } from "effect"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { openDashboards } from "../src/dashboards.ts"

// A stand-in for the processor's console on loopback: a `data` event every 200 ms (far more often
// than a refresh may run), JSON everywhere else, and a broken /api/alerts.
const seen: Array<{ path: string; auth: string | undefined }> = []
let openStreams = 0
const server = http.createServer((req, res) => {
  const path = req.url ?? ""
  seen.push({ path, auth: req.headers.authorization })
  if (path === "/api/stream") {
    openStreams += 1
    res.writeHead(200, { "content-type": "text/event-stream" })
    res.write("retry: 1000\n\n")
    let v = 0
    const timer = setInterval(() => {
      v += 1
      res.write(`event: data\ndata: {"dataVersion":${v}}\n\n`)
    }, 200)
    req.on("close", () => {
      clearInterval(timer)
      openStreams -= 1
    })
    return
  }
  res.writeHead(path === "/api/alerts" ? 500 : 200, { "content-type": "application/json" })
  res.end("{}")
})

beforeAll(() => new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve)))
afterAll(
  () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections()
      server.close(() => resolve())
    }),
)

describe("simulated dashboards", () => {
  it("refresh at most once a second per dashboard on data events, count errors, close their streams when asked", async () => {
    const port = (server.address() as AddressInfo).port
    const load = await Effect.runPromise(
      Effect.scoped(
        Effect.gen(function* () {
          const d = yield* openDashboards({ port, token: "t0k", clients: 2 })
          yield* Effect.sleep("2600 millis")
          const report = yield* d.report
          // Closed before the scope ends (the harness then stops the processor).
          yield* d.close
          yield* Effect.sleep("100 millis")
          expect(openStreams).toBe(0)
          return report
        }),
      ),
    )
    const route = (name: string) => load.routes.find((r) => r.route === name)
    // The opening fetch, then at most one refresh a second (2.6 s: 3 at most) per dashboard.
    const metrics = route("metrics")?.requests ?? 0
    expect(metrics).toBeGreaterThanOrEqual(2 * 2)
    expect(metrics).toBeLessThanOrEqual(2 * 4)
    expect(route("dead-letters")?.requests).toBe(metrics)
    expect(route("alerts")).toMatchObject({ requests: 2, errors: 2 })
    expect(route("health")).toMatchObject({ requests: 2, errors: 0 })
    expect(load.firstError).toBe("alerts: HTTP 500")
    expect(load.streamEvents.data ?? 0).toBeGreaterThan(10)
    expect(seen.every((s) => s.auth === "Bearer t0k")).toBe(true)
  })

  it("close and reopen: nothing is requested while closed, counters carry on, open time is reported", async () => {
    const port = (server.address() as AddressInfo).port
    const { whileClosed, load } = await Effect.runPromise(
      Effect.scoped(
        Effect.gen(function* () {
          const d = yield* openDashboards({ port, token: "t0k", clients: 1, open: false })
          const before = seen.length
          yield* Effect.sleep("700 millis")
          const whileClosed = seen.length - before
          yield* d.reopen
          yield* Effect.sleep("1200 millis")
          yield* d.close
          yield* Effect.sleep("100 millis")
          expect(openStreams).toBe(0)
          const quiet = seen.length
          yield* Effect.sleep("700 millis")
          expect(seen.length).toBe(quiet)
          yield* d.reopen
          yield* Effect.sleep("1200 millis")
          return { whileClosed, load: yield* d.report }
        }),
      ),
    )
    expect(whileClosed).toBe(0)
    // Opened twice: two opening health requests, streams opened twice.
    expect(load.routes.find((r) => r.route === "health")?.requests).toBe(2)
    expect(load.seconds).toBeGreaterThanOrEqual(2)
    expect(load.seconds).toBeLessThanOrEqual(3)
    // The scope's end closed them (the server hears of it a moment later).
    for (let i = 0; i < 20 && openStreams > 0; i++) await new Promise((r) => setTimeout(r, 50))
    expect(openStreams).toBe(0)
  })
})
