import { ProcessorConfig } from "@rtoa/core"
import { Clock, Config, Context, Duration, Effect, Layer, Ref, Schedule } from "effect"
import { Gauge, type Registry } from "prom-client"
import { Metrics, type ProcessorMetrics } from "./metrics.ts"

/**
 * What the processor is doing, for /health, /ready and /metrics:
 *   starting     connecting, checking the schema and topics
 *   running      consuming; writes and commits succeed (idle counts as running)
 *   backing_off  a write keeps failing and is retried with backoff (since when, and why)
 *   stalled      records wait but nothing was committed for STALL_TIMEOUT_MS
 *   failed       stopped consuming (e.g. the dead-letter limit); needs an operator
 */
const PROCESSOR_STATES = ["starting", "running", "backing_off", "stalled", "failed"] as const
export type ProcessorState = (typeof PROCESSOR_STATES)[number]

export interface HealthSnapshot {
  readonly state: ProcessorState
  /** When the processor entered this state (epoch ms). */
  readonly since: number
  readonly reason?: string
  /** Last commit (epoch ms), if any. */
  readonly lastCommitAt?: number
  /** Records fetched but not yet committed, plus the last known lag. */
  readonly pending: number
}

export interface HealthService {
  /** Start-up is done; the pipelines run. */
  readonly started: Effect.Effect<void>
  /** `member`'s write is failing and being retried, because of `why`. */
  readonly backingOff: (member: string, why: string) => Effect.Effect<void>
  /** `member`'s write went through again. */
  readonly recovered: (member: string) => Effect.Effect<void>
  /** Offsets were committed: progress. */
  readonly committed: Effect.Effect<void>
  /** The processor stopped for good. */
  readonly fail: (why: string) => Effect.Effect<void>
  /** Re-evaluates the stall rule (the live layer does every second). */
  readonly check: Effect.Effect<void>
  readonly snapshot: Effect.Effect<HealthSnapshot>
}

export class Health extends Context.Tag("rtoa/Health")<Health, HealthService>() {}

interface State {
  readonly phase: "starting" | "running" | "failed"
  readonly phaseSince: number
  readonly failure?: string
  readonly backingOff: ReadonlyMap<string, { readonly since: number; readonly why: string }>
  readonly lastCommitAt?: number
  /** When records last were not waiting, or were committed: the stall clock starts here. */
  readonly progressAt: number
  readonly stalledSince: number | undefined
}

const pendingRecords = (m: ProcessorMetrics): number => {
  let lag = 0
  for (const n of m.lag.values()) lag += n
  return Math.max(0, m.fetched - m.consumed) + lag
}

const derive = (s: State, pending: number): HealthSnapshot => {
  const base = { pending, ...(s.lastCommitAt === undefined ? {} : { lastCommitAt: s.lastCommitAt }) }
  if (s.phase === "failed")
    return { ...base, state: "failed", since: s.phaseSince, ...(s.failure ? { reason: s.failure } : {}) }
  // A known cause (a failing write) explains a stall better than the stall itself.
  const first = [...s.backingOff.values()].sort((a, b) => a.since - b.since)[0]
  if (first !== undefined) return { ...base, state: "backing_off", since: first.since, reason: first.why }
  if (s.stalledSince !== undefined)
    return {
      ...base,
      state: "stalled",
      since: s.stalledSince,
      reason: `${pending} records waiting, no commit since ${new Date(s.progressAt).toISOString()}`,
    }
  return { ...base, state: s.phase, since: s.phaseSince }
}

/** Health for one processor; `check` evaluates the stall rule. */
export const makeHealth = (stallTimeout: Duration.Duration) =>
  Effect.gen(function* () {
    const metrics = yield* Metrics
    const start = yield* Clock.currentTimeMillis
    const ref = yield* Ref.make<State>({
      phase: "starting",
      phaseSince: start,
      backingOff: new Map(),
      progressAt: start,
      stalledSince: undefined,
    })
    const now = Clock.currentTimeMillis
    const stallMs = Duration.toMillis(stallTimeout)

    const watch = Effect.flatMap(now, (t) =>
      Ref.update(ref, (s) => {
        const waiting = pendingRecords(metrics) > 0
        if (!waiting) return { ...s, progressAt: t, stalledSince: undefined }
        if (s.phase === "running" && s.stalledSince === undefined && t - s.progressAt > stallMs)
          return { ...s, stalledSince: t }
        return s
      }),
    )
    const service: HealthService = {
      started: Effect.flatMap(now, (t) =>
        Ref.update(
          ref,
          (s): State =>
            s.phase === "starting" ? { ...s, phase: "running", phaseSince: t, progressAt: t } : s,
        ),
      ),
      backingOff: (member, why) =>
        Effect.flatMap(now, (t) =>
          Ref.update(ref, (s) => {
            const since = s.backingOff.get(member)?.since ?? t
            return { ...s, backingOff: new Map(s.backingOff).set(member, { since, why }) }
          }),
        ),
      recovered: (member) =>
        Ref.update(ref, (s) => {
          if (!s.backingOff.has(member)) return s
          const backingOff = new Map(s.backingOff)
          backingOff.delete(member)
          return { ...s, backingOff }
        }),
      committed: Effect.flatMap(now, (t) =>
        Ref.update(ref, (s) => ({ ...s, lastCommitAt: t, progressAt: t, stalledSince: undefined })),
      ),
      fail: (why) =>
        Effect.flatMap(now, (t) =>
          Ref.update(
            ref,
            (s): State => (s.phase === "failed" ? s : { ...s, phase: "failed", phaseSince: t, failure: why }),
          ),
        ),
      check: watch,
      snapshot: Effect.map(Ref.get(ref), (s) => derive(s, pendingRecords(metrics))),
    }
    return service
  })

export interface HealthSettings {
  /** Records waiting and no commit for this long: the processor reports itself stalled. */
  readonly stallTimeout: Duration.Duration
}

/** Health with a watcher that checks for a stall every second; `layerConfig` reads the settings. */
export const layer = (settings: HealthSettings): Layer.Layer<Health, never, Metrics> =>
  Layer.scoped(
    Health,
    Effect.tap(makeHealth(settings.stallTimeout), (h) =>
      Effect.forkScoped(Effect.repeat(h.check, Schedule.spaced("1 second"))),
    ),
  )

/** STALL_TIMEOUT_MS, from core's ProcessorConfig. */
export const settingsConfig: Config.Config<HealthSettings> = Config.map(
  ProcessorConfig,
  ({ stallTimeout }) => ({
    stallTimeout,
  }),
)

export const layerConfig = (config: Config.Config.Wrap<HealthSettings> = settingsConfig) =>
  Layer.unwrapEffect(Effect.map(Config.unwrap(config), layer))

interface HealthGauges {
  readonly state: Gauge<"state">
  readonly seconds: Gauge
  readonly pending: Gauge
}

// One set per registry (each ProcessorMetrics has its own), made at the first scrape.
const gaugesOf = new WeakMap<Registry, HealthGauges>()

const healthGauges = (registry: Registry): HealthGauges => {
  const known = gaugesOf.get(registry)
  if (known !== undefined) return known
  const registers = [registry]
  const gauges: HealthGauges = {
    state: new Gauge({
      name: "rtoa_processor_state",
      help: "1 for the processor's current state (running, backing_off, stalled, failed, starting).",
      labelNames: ["state"],
      registers,
    }),
    seconds: new Gauge({
      name: "rtoa_processor_state_seconds",
      help: "Seconds since the processor entered its current state.",
      registers,
    }),
    pending: new Gauge({
      name: "rtoa_pending_records",
      help: "Records fetched but not committed, plus the last known consumer lag.",
      registers,
    }),
  }
  gaugesOf.set(registry, gauges)
  return gauges
}

/** Health as gauges in `registry`: one per state (1 for the current one), its age, pending records. */
export const recordHealthMetrics = (registry: Registry, h: HealthSnapshot, nowMs: number): void => {
  const gauges = healthGauges(registry)
  for (const s of PROCESSOR_STATES) gauges.state.set({ state: s }, s === h.state ? 1 : 0)
  gauges.seconds.set(Math.max(0, (nowMs - h.since) / 1_000))
  gauges.pending.set(h.pending)
}
