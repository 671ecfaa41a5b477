import { ClickHouse, refreshMinuteCounts } from "@rtoa/core"
import { Context, Effect, Layer, Ref, Schedule } from "effect"

/**
 * Keeps metrics_minutely_counts (exact per-minute counts, cheap to read) a few seconds behind the
 * writes: the sink reports the minutes each acknowledged batch touched, a background loop
 * recomputes them (one refresh at a time), and the last ones are refreshed on shutdown.
 * `version` goes up after every refresh: the console refetches when it changes.
 */
export interface MinuteCountsService {
  readonly touched: (minutesMs: Iterable<number>) => Effect.Effect<void>
  readonly version: Effect.Effect<number>
  /** Refreshes what is pending now (the loop calls it; tests and shutdown too). */
  readonly flush: Effect.Effect<void>
}

export class MinuteCounts extends Context.Tag("rtoa/MinuteCounts")<MinuteCounts, MinuteCountsService>() {}

// A refresh reads every state of its minutes: bounded lists keep each statement small.
const CHUNK = 500

const make = Effect.gen(function* () {
  const ch = yield* ClickHouse
  const pending = yield* Ref.make<ReadonlySet<number>>(new Set())
  const version = yield* Ref.make(0)
  const touched = (minutesMs: Iterable<number>) =>
    Ref.update(pending, (s) => {
      const next = new Set(s)
      for (const m of minutesMs) next.add(m)
      return next
    })
  const flush = Effect.gen(function* () {
    const minutes = [...(yield* Ref.getAndSet(pending, new Set()))]
    if (minutes.length === 0) return
    yield* Effect.forEach(
      Array.from({ length: Math.ceil(minutes.length / CHUNK) }, (_, i) =>
        minutes.slice(i * CHUNK, (i + 1) * CHUNK),
      ),
      (chunk) => refreshMinuteCounts(ch, chunk),
      { discard: true },
    ).pipe(
      Effect.zipRight(Ref.update(version, (v) => v + 1)),
      // The minutes were taken: put them back for the next round.
      Effect.catchAll((e) =>
        Effect.zipRight(
          touched(minutes),
          Effect.logWarning(`refreshing minute counts failed (retried next round): ${e.message}`),
        ),
      ),
    )
  })
  return { touched, version: Ref.get(version), flush } satisfies MinuteCountsService
})

// A few seconds behind the writes is fresh enough for the console, and keeps refreshes batched.
const REFRESH_INTERVAL = "2 seconds"

/** The refresher with its loop every 2 s; a last refresh when the scope closes. */
export const MinuteCountsLive: Layer.Layer<MinuteCounts, never, ClickHouse> = Layer.scoped(
  MinuteCounts,
  Effect.gen(function* () {
    const service = yield* make
    yield* Effect.forkScoped(Effect.repeat(service.flush, Schedule.spaced(REFRESH_INTERVAL)))
    yield* Effect.addFinalizer(() => service.flush)
    return service
  }),
)

/** Counts nothing (unit tests of the pipeline). */
export const MinuteCountsNone: Layer.Layer<MinuteCounts> = Layer.succeed(MinuteCounts, {
  touched: () => Effect.void,
  version: Effect.succeed(0),
  flush: Effect.void,
})
