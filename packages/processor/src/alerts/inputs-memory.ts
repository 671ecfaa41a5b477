import { Clock, Context, Duration, Effect, Layer, Option, Ref } from "effect"
import { AlertInputs, type AlertInputsService, AlertInputsUnavailable } from "./inputs.ts"
import type { EventFilter } from "./rules.ts"

/**
 * AlertInputs over data kept in memory, for tests (and demos): events, dead letters and lag are
 * recorded through `AlertInputsMemory`, and the inputs answer from them by Effect's Clock, so
 * TestClock drives the minutes.
 */

/** `events` events at `at` (epoch ms) from `users`, in one channel / source / type. */
export interface MemoryEvents {
  readonly at: number
  readonly events: number
  readonly users?: ReadonlyArray<string>
  readonly channel?: string
  readonly source?: string
  readonly type?: string
}

export interface AlertInputsMemoryService {
  readonly addEvents: (rows: ReadonlyArray<MemoryEvents>) => Effect.Effect<void>
  /** `records` consumed at `at`, `deadLetters` of them dead-lettered. */
  readonly addRecords: (at: number, records: number, deadLetters: number) => Effect.Effect<void>
  /** The largest consumer lag (seconds), or undefined when no partition reported yet. */
  readonly setLagSeconds: (seconds: number | undefined) => Effect.Effect<void>
  /** While set, every input fails with this message (ClickHouse down). */
  readonly setUnavailable: (message: string | undefined) => Effect.Effect<void>
  /** Every input takes this long to answer (a slow or stuck query). */
  readonly setLatency: (latency: Duration.Duration) => Effect.Effect<void>
  /** How many times the inputs were asked, for tests that check retries. */
  readonly calls: Effect.Effect<number>
}

export class AlertInputsMemory extends Context.Tag("rtoa/AlertInputsMemory")<
  AlertInputsMemory,
  AlertInputsMemoryService
>() {}

interface Store {
  readonly events: ReadonlyArray<MemoryEvents>
  readonly records: ReadonlyArray<{
    readonly at: number
    readonly records: number
    readonly deadLetters: number
  }>
  readonly lagSeconds: number | undefined
  readonly unavailable: string | undefined
  readonly latency: Duration.Duration
  readonly calls: number
}

const MINUTE = 60_000

const matches = (row: MemoryEvents, f: EventFilter): boolean =>
  (f.channel === undefined || row.channel === f.channel) &&
  (f.source === undefined || row.source === f.source) &&
  (f.type === undefined || row.type === f.type)

/** The complete minutes before now's minute, oldest first, from the first minute with data. */
const completeMinutes = (store: Store, now: number, minutes: number): ReadonlyArray<number> => {
  if (store.events.length === 0) return []
  const first = Math.floor(Math.min(...store.events.map((r) => r.at)) / MINUTE) * MINUTE
  const current = Math.floor(now / MINUTE) * MINUTE
  const out: Array<number> = []
  for (let i = minutes; i >= 1; i--) if (current - i * MINUTE >= first) out.push(current - i * MINUTE)
  return out
}

const inMinute = (row: MemoryEvents, minute: number) => row.at >= minute && row.at < minute + MINUTE

export const makeAlertInputsMemory = Effect.gen(function* () {
  const ref = yield* Ref.make<Store>({
    events: [],
    records: [],
    lagSeconds: undefined,
    unavailable: undefined,
    latency: Duration.zero,
    calls: 0,
  })
  // Every input: count the call, wait the latency, fail while unavailable, then read the store.
  const read = <A>(f: (store: Store, now: number) => A): Effect.Effect<A, AlertInputsUnavailable> =>
    Effect.gen(function* () {
      const store = yield* Ref.updateAndGet(ref, (s) => ({ ...s, calls: s.calls + 1 }))
      if (Duration.greaterThan(store.latency, Duration.zero)) yield* Effect.sleep(store.latency)
      const current = yield* Ref.get(ref)
      if (current.unavailable !== undefined)
        return yield* new AlertInputsUnavailable({ message: current.unavailable })
      return f(current, yield* Clock.currentTimeMillis)
    })

  const inputs: AlertInputsService = {
    eventsPerMinute: (filter, minutes) =>
      read((s, now) =>
        completeMinutes(s, now, minutes).map((m) =>
          s.events.filter((r) => inMinute(r, m) && matches(r, filter)).reduce((n, r) => n + r.events, 0),
        ),
      ),
    usersPerMinute: (filter, minutes) =>
      read((s, now) =>
        completeMinutes(s, now, minutes).map(
          (m) =>
            new Set(
              s.events.filter((r) => inMinute(r, m) && matches(r, filter)).flatMap((r) => r.users ?? []),
            ).size,
        ),
      ),
    deadLettersAndRecords: (windowSeconds) =>
      read((s, now) =>
        s.records
          .filter((r) => r.at > now - windowSeconds * 1_000 && r.at <= now)
          .reduce(
            (t, r) => ({ deadLetters: t.deadLetters + r.deadLetters, records: t.records + r.records }),
            {
              deadLetters: 0,
              records: 0,
            },
          ),
      ),
    maxLagSeconds: read((s) => Option.fromNullable(s.lagSeconds)),
    freshnessMs: read((s, now) =>
      s.events.length === 0 ? Option.none() : Option.some(now - Math.max(...s.events.map((r) => r.at))),
    ),
  }

  const control: AlertInputsMemoryService = {
    addEvents: (rows) => Ref.update(ref, (s) => ({ ...s, events: [...s.events, ...rows] })),
    addRecords: (at, records, deadLetters) =>
      Ref.update(ref, (s) => ({ ...s, records: [...s.records, { at, records, deadLetters }] })),
    setLagSeconds: (lagSeconds) => Ref.update(ref, (s) => ({ ...s, lagSeconds })),
    setUnavailable: (unavailable) => Ref.update(ref, (s) => ({ ...s, unavailable })),
    setLatency: (latency) => Ref.update(ref, (s) => ({ ...s, latency })),
    calls: Ref.get(ref).pipe(Effect.map((s) => s.calls)),
  }
  return { inputs, control }
})

/** AlertInputs answered from memory, with the AlertInputsMemory handle that feeds it. */
export const AlertInputsInMemory: Layer.Layer<AlertInputs | AlertInputsMemory> = Layer.effectContext(
  Effect.map(makeAlertInputsMemory, ({ inputs, control }) =>
    Context.make(AlertInputs, inputs).pipe(Context.add(AlertInputsMemory, control)),
  ),
)
