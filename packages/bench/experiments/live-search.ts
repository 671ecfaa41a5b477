import { Effect } from "effect"
import { drainRun } from "../src/drain.ts"
import { produce } from "../src/loadgen.ts"
import type { Search, SearchStep } from "../src/results.ts"
import { slope } from "../src/stats.ts"
import {
  type BenchContext,
  processor,
  type SystemKind,
  startSampledSystem,
  systemName,
} from "../src/systems.ts"
import { runExperiment } from "./run.ts"

/**
 * Live max-rate search: the producer runs at a candidate rate for `stepS` seconds while the system
 * consumes; the rate is sustained when the producer achieved it, the group's lag at the end is at
 * most one second of traffic and the lag did not grow over the second half of the step (slope at
 * most 5% of the rate). Rates move down by x0.8 after a failure and up by x1.2 after a pass, and
 * the search stops after `maxSteps` or once a failure sits right above a pass. The producer runs
 * on the same two cores, so this is what the box sustains end to end, load generator included.
 */

/** The pure verdict of one step. */
export const judgeStep = (
  rate: number,
  achieved: number,
  lagSeries: ReadonlyArray<readonly [number, number]>,
): SearchStep => {
  const endLag = lagSeries.at(-1)?.[1] ?? 0
  const half = lagSeries.slice(Math.floor(lagSeries.length / 2))
  const lagSlopePerSec = Math.round(slope(half.map(([t, lag]) => [t / 1_000, lag] as const)))
  const pass = achieved >= 0.95 * rate && endLag <= Math.max(rate, 2_000) && lagSlopePerSec <= 0.05 * rate
  return { rate, achieved: Math.round(achieved), endLag, lagSlopePerSec, pass }
}

/** The next rate to try, or undefined when the search is done. */
export const nextRate = (steps: ReadonlyArray<SearchStep>, maxSteps: number): number | undefined => {
  const last = steps.at(-1)
  if (last === undefined || steps.length >= maxSteps) return undefined
  const roundTo = (r: number) => Math.max(1_000, Math.round(r / 1_000) * 1_000)
  const passes = steps.filter((s) => s.pass).map((s) => s.rate)
  const fails = steps.filter((s) => !s.pass).map((s) => s.rate)
  const bestPass = passes.length > 0 ? Math.max(...passes) : undefined
  const lowestFail = fails.length > 0 ? Math.min(...fails) : undefined
  if (bestPass !== undefined && lowestFail !== undefined) {
    if (lowestFail <= bestPass * 1.1) return undefined
    const mid = roundTo((bestPass + lowestFail) / 2)
    return mid === bestPass || mid === lowestFail ? undefined : mid
  }
  return roundTo(last.pass ? last.rate * 1.2 : last.rate * 0.8)
}

export const liveSearch = (
  ctx: BenchContext,
  kind: SystemKind,
  startRate: number,
  stepS: number,
  maxSteps: number,
  tag: string,
) =>
  Effect.gen(function* () {
    const steps: Array<SearchStep> = []
    for (let rate: number | undefined = startRate; rate !== undefined; rate = nextRate(steps, maxSteps)) {
      const r = rate
      const step = yield* Effect.scoped(
        Effect.gen(function* () {
          const topic = `${tag}-search-${systemName(kind)}-${r}`
          const { sampler } = yield* startSampledSystem(ctx, kind, topic, { engineMemory: false })
          const run = yield* produce(ctx, topic, r, r * stepS, r)
          // One more second so the last batches can commit, then judge on the producing interval.
          yield* Effect.sleep("1 second")
          const samples = yield* sampler.sampleNow
          const series = samples
            .filter((s) => s.lag >= 0 && s.t >= run.startedAt + 2_000)
            .map((s) => [s.t - run.startedAt, s.lag] as const)
          return judgeStep(r, run.achievedRate, series)
        }),
      )
      steps.push(step)
      yield* ctx.log(
        `search ${systemName(kind)} @ ${r}/s: achieved ${step.achieved}/s, end lag ${step.endLag}, lag slope ${step.lagSlopePerSec}/s -> ${step.pass ? "sustained" : "not sustained"}`,
      )
    }
    const passed = steps.filter((s) => s.pass).map((s) => s.rate)
    return {
      system: systemName(kind),
      steps,
      sustained: passed.length > 0 ? Math.max(...passed) : null,
    } satisfies Search
  })

// Only when run as a program: tests import the pure parts.
if (import.meta.main)
  runExperiment(
    "live-search",
    "the highest rate the processor sustains with the producer on the same box, from just under its drain rate",
    ({ ctx, topic, events, producerRate, tag }) =>
      Effect.gen(function* () {
        const { results } = yield* drainRun(ctx, processor, topic, events, { group: `${tag}-drain` })
        const capacity = results[0]?.eventsPerSec ?? producerRate
        const start = Math.max(1_000, Math.round((Math.min(capacity, producerRate) * 0.9) / 1_000) * 1_000)
        return yield* liveSearch(ctx, processor, start, 20, 5, tag)
      }),
  )
