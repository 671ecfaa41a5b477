import type { DeadLetterEntry, HealthResponse } from "@rtoa/dashboard"
import { HealthResponse as HealthSchema } from "@rtoa/dashboard"
import { MinuteCounts } from "@rtoa/pipeline"
import { Clock, Effect, Schedule, Schema, Stream } from "effect"
import { Alerts } from "../alerts/runner.ts"
import { DeadLetterLog } from "../dead-letter-log.ts"
import { Health } from "../health.ts"
import { lagNow, Metrics } from "../metrics.ts"
import { Sampler } from "../sampler.ts"

/** The platform's freshness objective (the spec's end-to-end SLO). */
const FRESHNESS_SLO_MS = 5_000

/** The console's live view of the pipeline: state, rates, lag, latency, freshness. */
export const healthNow = Effect.gen(function* () {
  const health = yield* Effect.flatMap(Health, (h) => h.snapshot)
  const recent = yield* Effect.flatMap(Sampler, (s) => s.recent)
  const metrics = yield* Metrics
  const version = yield* Effect.flatMap(MinuteCounts, (c) => c.version)
  const now = yield* Clock.currentTimeMillis
  const lag = lagNow(metrics, now)
  return {
    state: health.state,
    since: Math.floor(health.since / 1_000),
    ...(health.reason === undefined ? {} : { reason: health.reason }),
    ...(health.lastCommitAt === undefined ? {} : { lastCommit: Math.floor(health.lastCommitAt / 1_000) }),
    now: Math.floor(now / 1_000),
    consumedPerSecond: recent.consumedPerSecond,
    writtenPerSecond: recent.writtenPerSecond,
    deadLettersPerSecond: recent.deadLettersPerSecond,
    lag,
    latencyMs: recent.latencyMs,
    batchRows: recent.batchRows,
    sinkRetriesTotal: metrics.sinkFailures,
    freshnessMs: metrics.newestEventTime === undefined ? null : Math.max(0, now - metrics.newestEventTime),
    freshnessSloMs: FRESHNESS_SLO_MS,
    dataVersion: version,
  } satisfies HealthResponse
})

const encoder = new TextEncoder()
const sse = (event: string, data: unknown) =>
  encoder.encode(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`)
const encodeHealth = Schema.encodeSync(HealthSchema)

/**
 * Server-sent events for the page: `health` every second, `data` when the exact counts were
 * refreshed (new data to fetch), `alert` when a rule changes state, `dead-letter` for each new
 * one, a comment every 15 s to keep proxies from closing an idle stream. The browser's EventSource reconnects by itself.
 */
export const consoleEvents = () =>
  Stream.unwrapScoped(
    Effect.gen(function* () {
      const counts = yield* MinuteCounts
      const log = yield* DeadLetterLog
      const deadLetters = yield* log.subscribe
      const alerts = (yield* Effect.flatMap(Alerts, (a) => a.changes)).pipe(
        Stream.map((s) => sse("alert", s)),
      )
      const context = yield* Effect.context<Health | Sampler | Metrics | MinuteCounts>()
      const health = Stream.repeatEffectWithSchedule(
        Effect.map(Effect.provide(healthNow, context), (h) => sse("health", encodeHealth(h))),
        Schedule.spaced("1 second"),
      )
      let seen = -1
      const data = Stream.repeatEffect(Effect.flatMap(Effect.sleep("500 millis"), () => counts.version)).pipe(
        Stream.filter((v) => {
          const changed = v !== seen
          seen = v
          return changed
        }),
        Stream.map((dataVersion) => sse("data", { dataVersion })),
      )
      const letters = Stream.fromQueue(deadLetters).pipe(
        Stream.map((e: DeadLetterEntry) => sse("dead-letter", e)),
      )
      const keepAlive = Stream.repeatEffect(
        Effect.as(Effect.sleep("15 seconds"), encoder.encode(": keep-alive\n\n")),
      )
      // `retry`: reconnect after a second (browsers default to about three) when the processor restarts.
      const retry = Stream.make(encoder.encode("retry: 1000\n\n"))
      return Stream.concat(
        retry,
        Stream.mergeAll([health, data, letters, alerts, keepAlive], { concurrency: "unbounded" }),
      )
    }),
  )
