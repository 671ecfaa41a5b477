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
})
