import { Duration, Effect, Fiber, Queue, Schedule, type Scope } from "effect"
import {
  dataRequests,
  dimensionRequests,
  openingRequests,
  type PlannedRequest,
  ROUTES,
  slowRequests,
} from "./dashboard-plan.ts"
import type { DashboardLoad } from "./results.ts"
import { makeSseParser, type SseEvent } from "./sse.ts"
import { summarize } from "./stats.ts"

/**
 * Simulated operators' consoles: each keeps /api/stream open and reads its events, refetches the
 * panels on each `data` event (at most once a second, never two refreshes at once, the last one
 * never dropped, as the page's throttle), the health history and alerts every 10 s and the filter
 * options every 5 s, with the endpoint's bearer token. Requests, errors and latency are counted.
 *
 * Simulated clients, not real browsers: two headless Chromium instances would take most of the 2
 * cores the processor runs on, so the run would measure the browsers. The server-side work per
 * page (the requests and the stream) is the same, and that is what costs the processor.
 *
 * The page itself refetches history, alerts and dead letters about once a minute (and on stream
 * events); the cadence here is heavier, so the measured cost is an upper bound.
 */

export interface Dashboards {
  /** What the dashboards did while open (`seconds`: how long they were open in all). */
  readonly report: Effect.Effect<DashboardLoad>
  /**
   * Closes them now (else when the scope closes): their streams and the requests in flight. Also
   * before the processor is stopped, since its HTTP server waits for open streams to end.
   */
  readonly close: Effect.Effect<void>
  /** Opens them again, as pages being opened (every panel, then the stream); no-op when open. */
  readonly reopen: Effect.Effect<void>
}

const REQUEST_TIMEOUT_MS = 15_000

const message = (e: unknown) =>
  e instanceof Error ? (e.cause instanceof Error ? e.cause : e).message : String(e)

const makeRecorder = () => {
  const latencies = new Map<string, Array<number>>()
  const errors = new Map<string, number>()
  const events = new Map<string, number>()
  let reconnects = 0
  let firstError: string | null = null
  const fail = (what: string) => {
    firstError ??= what
  }
  return {
    request: (route: string, ms: number, error: string | undefined) => {
      const list = latencies.get(route) ?? []
      list.push(ms)
      latencies.set(route, list)
      if (error !== undefined) {
        errors.set(route, (errors.get(route) ?? 0) + 1)
        fail(`${route}: ${error}`)
      }
    },
    event: (type: string) => events.set(type, (events.get(type) ?? 0) + 1),
    streamEnded: (error: string | undefined) => {
      reconnects += 1
      if (error !== undefined) fail(`stream: ${error}`)
    },
    report: (clients: number, seconds: number): DashboardLoad => {
      const known: ReadonlyArray<string> = ROUTES
      const routes = [...known, ...[...latencies.keys()].filter((r) => !known.includes(r))]
      return {
        clients,
        seconds,
        routes: routes.flatMap((route) => {
          const list = latencies.get(route)
          return list === undefined
            ? []
            : [
                {
                  route,
                  requests: list.length,
                  errors: errors.get(route) ?? 0,
                  latencyMs: summarize(list) ?? null,
                },
              ]
        }),
        streamEvents: Object.fromEntries(events),
        streamReconnects: reconnects,
        firstError,
      }
    },
  }
}

/**
 * Open N simulated dashboards against the processor's endpoint for the scope's lifetime (or until
 * `close`; `reopen` opens them again with the same counters, for runs that alternate).
 */
export const openDashboards = (options: {
  readonly port: number
  readonly token: string
  readonly clients: number
  /** Open them now (the default), or leave that to `reopen`. */
  readonly open?: boolean
}): Effect.Effect<Dashboards, never, Scope.Scope> =>
  Effect.gen(function* () {
    const base = `http://127.0.0.1:${options.port}`
    const headers = { authorization: `Bearer ${options.token}` }
    const recorder = makeRecorder()
    const nowSec = () => Date.now() / 1_000

    const send = (req: PlannedRequest) =>
      Effect.promise(async (interrupted) => {
        const t0 = performance.now()
        try {
          const res = await fetch(`${base}${req.path}`, {
            headers: { ...headers, accept: "application/json" },
            signal: AbortSignal.any([interrupted, AbortSignal.timeout(REQUEST_TIMEOUT_MS)]),
          })
          await res.arrayBuffer()
          recorder.request(req.route, performance.now() - t0, res.ok ? undefined : `HTTP ${res.status}`)
        } catch (e) {
          if (!interrupted.aborted) recorder.request(req.route, performance.now() - t0, message(e))
        }
      })
    const sendAll = (reqs: ReadonlyArray<PlannedRequest>) =>
      Effect.forEach(reqs, send, { concurrency: "unbounded", discard: true })

    // One page: its loops run until the page's scope closes.
    const page = Effect.gen(function* () {
      // One pending refresh at most: events while one runs (or within a second) ask for one more.
      const wake = yield* Queue.sliding<void>(1)
      let version: number | undefined
      const onEvent = (ev: SseEvent) => {
        recorder.event(ev.event)
        if (ev.event === "data") Queue.unsafeOffer(wake, undefined)
        else if (ev.event === "health") {
          // As the page: a changed dataVersion in the health snapshot also means new data.
          const v = /"dataVersion":(\d+)/.exec(ev.data)?.[1]
          if (v !== undefined && version !== undefined && Number(v) !== version)
            Queue.unsafeOffer(wake, undefined)
          if (v !== undefined) version = Number(v)
        }
      }
      const readStream = Effect.promise(async (interrupted) => {
        try {
          const res = await fetch(`${base}/api/stream`, {
            headers: { ...headers, accept: "text/event-stream" },
            signal: interrupted,
          })
          if (!res.ok || res.body === null) {
            await res.body?.cancel()
            return `HTTP ${res.status}`
          }
          const parse = makeSseParser()
          const decoder = new TextDecoder()
          for await (const chunk of res.body)
            for (const ev of parse(decoder.decode(chunk, { stream: true }))) onEvent(ev)
          return "the stream ended"
        } catch (e) {
          return interrupted.aborted ? undefined : message(e)
        }
      })
      const [first, ...rest] = openingRequests(nowSec())
      if (first !== undefined) yield* send(first)
      yield* sendAll(rest)
      // The stream, opened again a second after it ends (the server's `retry: 1000`).
      yield* Effect.forkScoped(
        Effect.forever(
          Effect.flatMap(readStream, (error) =>
            Effect.zipRight(
              Effect.sync(() => recorder.streamEnded(error)),
              Effect.sleep("1 second"),
            ),
          ),
        ),
      )
      yield* Effect.forkScoped(
        Effect.forever(
          Effect.gen(function* () {
            yield* Queue.take(wake)
            const started = Date.now()
            yield* sendAll(dataRequests(nowSec()))
            yield* Effect.sleep(Duration.millis(Math.max(0, 1_000 - (Date.now() - started))))
          }),
        ),
      )
      const every = (
        interval: Duration.DurationInput,
        plan: (now: number) => ReadonlyArray<PlannedRequest>,
      ) =>
        Effect.forkScoped(
          Effect.schedule(
            Effect.suspend(() => sendAll(plan(nowSec()))),
            Schedule.spaced(interval),
          ),
        )
      yield* every("10 seconds", slowRequests)
      yield* every("5 seconds", dimensionRequests)
      return yield* Effect.never
    }).pipe(Effect.scoped)

    const pages = Effect.forEach(Array.from({ length: options.clients }), () => page, {
      concurrency: "unbounded",
      discard: true,
    })
    const scope = yield* Effect.scope
    let running: Fiber.RuntimeFiber<void> | undefined
    let openedAt = 0
    let openMs = 0
    const reopen = Effect.suspend(() =>
      running !== undefined
        ? Effect.void
        : Effect.map(Effect.forkIn(pages, scope), (f) => {
            running = f
            openedAt = Date.now()
          }),
    )
    const close = Effect.suspend(() => {
      const f = running
      if (f === undefined) return Effect.void
      running = undefined
      openMs += Date.now() - openedAt
      return Fiber.interrupt(f)
    })
    yield* Effect.addFinalizer(() => close)
    if (options.open !== false) yield* reopen
    return {
      report: Effect.sync(() =>
        recorder.report(
          options.clients,
          Math.round((openMs + (running === undefined ? 0 : Date.now() - openedAt)) / 1_000),
        ),
      ),
      close,
      reopen,
    }
  })
