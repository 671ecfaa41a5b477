import { Clock, Duration, Effect, Ref } from "effect"
import type { Dashboards } from "./dashboards.ts"
import { CLOCK_TICKS } from "./procstat.ts"
import type { Sample } from "./sampler.ts"

/**
 * The console's cost measured A/B within one run: the dashboards are closed and open in
 * alternating periods while the system under test runs, and each measurement (latency of the
 * events sent in a period, rows written in it, CPU) is taken over the open periods and over the
 * closed ones. Both halves see the same process, broker, topic, JIT state and box load, which
 * separate runs one after the other do not (on a shared 2-core box they drift by more than the
 * 5% being judged). The periods go closed, open, open, closed (and again), so a steady drift
 * over the run (a backlog that grows, a box that gets busier) weighs on both halves alike. Each
 * period's first `marginMs` is left out of both: requests in flight when the dashboards close,
 * and the switch itself, belong to neither.
 */

/** Whether period i has the dashboards open: closed, open, open, closed, repeated. */
export const openAt = (i: number) => i % 4 === 1 || i % 4 === 2

/** One period, epoch ms. */
export interface Period {
  readonly from: number
  readonly to: number
  readonly open: boolean
}

/**
 * Closed / open periods of `periodMs` (openAt's order) from now until `untilMs` (or until
 * interrupted); `periods` holds the ones begun so far. The dashboards are closed when it ends.
 */
export const alternate = (
  dashboards: Dashboards,
  periodMs: number,
  untilMs: number,
  periods: Ref.Ref<ReadonlyArray<Period>>,
) =>
  Effect.gen(function* () {
    const start = yield* Clock.currentTimeMillis
    for (let i = 0; start + i * periodMs < untilMs; i++) {
      const open = openAt(i)
      yield* open ? dashboards.reopen : dashboards.close
      const from = start + i * periodMs
      const to = Math.min(from + periodMs, untilMs)
      yield* Ref.update(periods, (ps) => [...ps, { from, to, open }])
      yield* Effect.sleep(Duration.millis(Math.max(0, to - (yield* Clock.currentTimeMillis))))
    }
  }).pipe(Effect.ensuring(dashboards.close))

/** The periods of one kind, each without its first `marginMs` and clipped to [from, to). */
export const measured = (
  periods: ReadonlyArray<Period>,
  open: boolean,
  marginMs: number,
  from = Number.NEGATIVE_INFINITY,
  to = Number.POSITIVE_INFINITY,
): ReadonlyArray<Period> =>
  periods.flatMap((p) => {
    const a = Math.max(p.from + marginMs, from)
    const b = Math.min(p.to, to)
    return p.open === open && b > a ? [{ from: Math.round(a), to: Math.round(b), open }] : []
  })

/** Total length of periods, ms. */
export const totalMs = (periods: ReadonlyArray<Period>) => periods.reduce((n, p) => n + (p.to - p.from), 0)

/** A SQL condition: `column` (DateTime64) inside any of the periods; false when there are none. */
export const inPeriods = (column: string, periods: ReadonlyArray<Period>) =>
  periods.length === 0
    ? "0"
    : periods
        .map(
          (p) =>
            `(${column} >= fromUnixTimestamp64Milli(toInt64(${Math.floor(p.from)}), 'UTC') AND ${column} < fromUnixTimestamp64Milli(toInt64(${Math.floor(p.to)}), 'UTC'))`,
        )
        .join(" OR ")

/**
 * The process's CPU (cores) over the periods: its ticks between the first and last sample inside
 * each period, over the time between them (a period without two samples in it does not count).
 */
export const cpuCoresOver = (samples: ReadonlyArray<Sample>, periods: ReadonlyArray<Period>) => {
  let ticks = 0
  let ms = 0
  for (const p of periods) {
    const inside = samples.filter((s) => s.t >= p.from && s.t <= p.to)
    const a = inside[0]
    const b = inside[inside.length - 1]
    if (a === undefined || b === undefined || b.t <= a.t) continue
    ticks += b.ticks - a.ticks
    ms += b.t - a.t
  }
  return ms === 0 ? 0 : Math.round((ticks / CLOCK_TICKS / (ms / 1_000)) * 1_000) / 1_000
}
