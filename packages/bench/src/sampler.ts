import { Duration, Effect, Fiber, Ref, type Scope } from "effect"
import { CLOCK_TICKS, cpuTicks, diffTicks, machineCpu, memory, threadTicks } from "./procstat.ts"
import type { TableCounters, TablesSample } from "./writes.ts"

/**
 * Samples a process (CPU ticks, per-thread CPU, memory), the broker's CPU, and optionally the
 * consumer group's lag and the system's per-table write counters (writes.ts), once per interval
 * for the scope's lifetime. Windows are cut afterwards from the wall-clock timestamps, so the
 * same samples serve any measured interval.
 */

export interface Sample {
  /** Epoch ms. */
  readonly t: number
  readonly ticks: number
  readonly threads: ReadonlyMap<string, number>
  readonly brokerTicks: number
  /** The whole machine's busy CPU ticks and its CPU pressure (µs some task waited), or -1. */
  readonly machineBusyTicks: number
  readonly cpuPressureUs: number
  readonly rssKb: number
  readonly hwmKb: number
  readonly anonKb: number
  readonly fileKb: number
  /** Uncommitted records of the group, or -1 when not sampled or unavailable. */
  readonly lag: number
  /** The embedded engine's MemoryTracking in bytes, or -1. */
  readonly engineBytes: number
  /** Per-table write counters, when sampled and the query answered. */
  readonly tables?: ReadonlyArray<TableCounters>
}

/** The samples that hold table counters, for writes.ts's tableWrites. */
export const tablesSamples = (samples: ReadonlyArray<Sample>): ReadonlyArray<TablesSample> =>
  samples.flatMap((s) => (s.tables === undefined ? [] : [{ t: s.t, tables: s.tables }]))

export interface Sampler {
  readonly samples: Effect.Effect<ReadonlyArray<Sample>>
  /** One more sample now (e.g. right at the end of a window), then the series. */
  readonly sampleNow: Effect.Effect<ReadonlyArray<Sample>>
}

export const startSampler = (options: {
  readonly pid: number
  readonly brokerPid: number
  readonly lag?: Effect.Effect<number, unknown>
  readonly engineBytes?: Effect.Effect<number, unknown>
  readonly tables?: Effect.Effect<ReadonlyArray<TableCounters>, unknown>
  readonly interval?: Duration.DurationInput
}): Effect.Effect<Sampler, never, Scope.Scope> =>
  Effect.gen(function* () {
    const series = yield* Ref.make<ReadonlyArray<Sample>>([])
    const lagOf = options.lag ?? Effect.succeed(-1)
    const engineOf = options.engineBytes ?? Effect.succeed(-1)
    const take = Effect.gen(function* () {
      const lag = yield* lagOf.pipe(Effect.orElseSucceed(() => -1))
      const engineBytes = yield* engineOf.pipe(Effect.orElseSucceed(() => -1))
      const tables =
        options.tables === undefined
          ? undefined
          : yield* options.tables.pipe(Effect.orElseSucceed((): undefined => undefined))
      const ticks = cpuTicks(options.pid)
      const mem = memory(options.pid)
      if (ticks === undefined || mem === undefined) return
      const sample: Sample = {
        t: Date.now(),
        ticks,
        threads: threadTicks(options.pid),
        brokerTicks: cpuTicks(options.brokerPid) ?? 0,
        ...(({ busyTicks, pressureUs }) => ({ machineBusyTicks: busyTicks, cpuPressureUs: pressureUs }))(
          machineCpu(),
        ),
        rssKb: mem.rssKb,
        hwmKb: mem.hwmKb,
        anonKb: mem.anonKb,
        fileKb: mem.fileKb,
        lag,
        engineBytes,
        ...(tables === undefined ? {} : { tables }),
      }
      yield* Ref.update(series, (all) => [...all, sample])
    })
    const interval = Duration.decode(options.interval ?? "1 second")
    const fiber = yield* Effect.forkScoped(Effect.forever(Effect.zipRight(take, Effect.sleep(interval))))
    yield* Effect.addFinalizer(() => Fiber.interrupt(fiber))
    return { samples: Ref.get(series), sampleNow: Effect.zipRight(take, Ref.get(series)) }
  })

export interface WindowStats {
  /** CPU of the process in cores (1.0 = one core busy) over the window. */
  readonly cpuCores: number
  readonly threadsCores: Readonly<Record<string, number>>
  readonly brokerCores: number
  /** CPU busy on the whole machine (every process), in cores; -1 when not read. */
  readonly machineCores: number
  /** Share of the window in which some runnable task waited for a CPU (0-1); -1 when not read. */
  readonly cpuPressure: number
  readonly peakHwmMb: number
  /** Peak anonymous RSS (sampled): the process's own heaps, without mapped library code. */
  readonly peakAnonMb: number
  /** Mapped-file RSS at that peak (mostly libchdb.so's code). */
  readonly fileMbAtPeak: number
  readonly engineMemPeakMb: number
  readonly maxLag: number
}

/** The first sample at or after `t`, or the last one. */
const atOrAfter = (samples: ReadonlyArray<Sample>, t: number) =>
  samples.find((s) => s.t >= t) ?? samples.at(-1)
/** The last sample at or before `t`, or the first one. */
const atOrBefore = (samples: ReadonlyArray<Sample>, t: number) =>
  [...samples].reverse().find((s) => s.t <= t) ?? samples[0]

/** Statistics over [from, to] (epoch ms), from the nearest samples inside the window. */
export const windowStats = (samples: ReadonlyArray<Sample>, from: number, to: number): WindowStats => {
  const a = atOrAfter(samples, from)
  const b = atOrBefore(samples, to)
  const mb = (kb: number) => Math.round(kb / 1_024)
  const peakHwmMb = mb(Math.max(0, ...samples.map((s) => s.hwmKb)))
  const anonPeak = samples.reduce<Sample | undefined>(
    (p, s) => (p === undefined || s.anonKb > p.anonKb ? s : p),
    undefined,
  )
  const memory = {
    peakHwmMb,
    peakAnonMb: mb(anonPeak?.anonKb ?? 0),
    fileMbAtPeak: mb(anonPeak?.fileKb ?? 0),
    engineMemPeakMb: Math.round(Math.max(0, ...samples.map((s) => s.engineBytes)) / 1_048_576),
  }
  const empty = {
    cpuCores: 0,
    threadsCores: {},
    brokerCores: 0,
    machineCores: -1,
    cpuPressure: -1,
    maxLag: 0,
    ...memory,
  }
  if (a === undefined || b === undefined) return empty
  const seconds = (b.t - a.t) / 1_000
  const inWindow = samples.filter((s) => s.t >= from && s.t <= to)
  const maxLag = Math.max(0, ...inWindow.map((s) => s.lag))
  if (seconds <= 0) return { ...empty, maxLag }
  const cores = (ticks: number) => Math.round((ticks / CLOCK_TICKS / seconds) * 1_000) / 1_000
  const threadsCores: Record<string, number> = {}
  for (const [name, ticks] of [...diffTicks(a.threads, b.threads)].sort((x, y) => y[1] - x[1]))
    threadsCores[name] = cores(ticks)
  return {
    cpuCores: cores(b.ticks - a.ticks),
    threadsCores,
    brokerCores: cores(b.brokerTicks - a.brokerTicks),
    machineCores:
      a.machineBusyTicks < 0 || b.machineBusyTicks < 0 ? -1 : cores(b.machineBusyTicks - a.machineBusyTicks),
    cpuPressure:
      a.cpuPressureUs < 0 || b.cpuPressureUs < 0
        ? -1
        : Math.round(((b.cpuPressureUs - a.cpuPressureUs) / 1_000 / (b.t - a.t)) * 1_000) / 1_000,
    maxLag,
    ...memory,
  }
}
