import * as os from "node:os"
import { ClickHouse, type TableRow } from "@rtoa/core"
import { Clock, Context, Effect, Layer, Ref, Schedule } from "effect"
import { LATENCY_BUCKETS, Metrics, type ProcessorMetrics } from "./metrics.ts"

/**
 * The processor's recent past for the console: a snapshot of the counters every second (the last
 * minute kept), from which rates and latency percentiles are derived, and every few seconds a row
 * in ingest_stats so the health panels can go back a day. Counters only ever grow, so a window is
 * the difference of two snapshots.
 */
export interface Sample {
  readonly t: number
  readonly consumed: number
  readonly written: number
  readonly deadLetters: ReadonlyMap<string, number>
  readonly latencyCounts: ReadonlyArray<number>
  readonly latencyCount: number
  readonly batches: number
  readonly batchRowsSum: number
  readonly sinkFailures: number
  /** The largest batch since the previous sample. */
  readonly maxBatchRows: number
}

export interface Recent {
  readonly consumedPerSecond: number
  readonly writtenPerSecond: number
  readonly deadLettersPerSecond: Readonly<Record<string, number>>
  readonly latencyMs: {
    readonly p50: number | null
    readonly p95: number | null
    readonly p99: number | null
  }
  readonly batchRows: { readonly avg: number | null; readonly max: number | null }
}

export interface SamplerService {
  readonly recent: Effect.Effect<Recent>
}

export class Sampler extends Context.Tag("rtoa/Sampler")<Sampler, SamplerService>() {}

const take = (m: ProcessorMetrics, t: number): Sample => {
  const sample: Sample = {
    t,
    consumed: m.consumed,
    written: m.written,
    deadLetters: new Map(m.deadLetters),
    latencyCounts: [...m.latency.counts],
    latencyCount: m.latency.count,
    batches: m.batches,
    batchRowsSum: m.batchRows.sum,
    sinkFailures: m.sinkFailures,
    maxBatchRows: m.maxBatchRows,
  }
  m.maxBatchRows = 0
  return sample
}

/** Bucket counts between two samples (the later minus the earlier), the overflow last. */
export const latencyDelta = (from: Sample, to: Sample): ReadonlyArray<number> => {
  const counts = to.latencyCounts.map((c, i) => c - (from.latencyCounts[i] ?? 0))
  const inBuckets = counts.reduce((n, c) => n + c, 0)
  return [...counts, to.latencyCount - from.latencyCount - inBuckets]
}

/** The q-quantile (ms) of a latency histogram, interpolated inside its bucket; null when empty. */
export const quantileMs = (counts: ReadonlyArray<number>, q: number): number | null => {
  const total = counts.reduce((n, c) => n + c, 0)
  if (total === 0) return null
  const rank = q * total
  let seen = 0
  for (let i = 0; i < counts.length; i++) {
    const c = counts[i] ?? 0
    if (c > 0 && seen + c >= rank) {
      const lower = i === 0 ? 0 : (LATENCY_BUCKETS[i - 1] ?? 60)
      const upper = LATENCY_BUCKETS[i] ?? LATENCY_BUCKETS[LATENCY_BUCKETS.length - 1] ?? 60
      return Math.round((lower + (upper - lower) * ((rank - seen) / c)) * 1_000)
    }
    seen += c
  }
  return null
}

const perSecond = (a: number, b: number, seconds: number) => (seconds > 0 ? (b - a) / seconds : 0)

/** Rates over the last ~10 s and latency and batch sizes over the last minute. */
export const summarize = (samples: ReadonlyArray<Sample>): Recent => {
  const last = samples[samples.length - 1]
  const tenAgo = samples[Math.max(0, samples.length - 11)]
  const minuteAgo = samples[0]
  if (last === undefined || tenAgo === undefined || minuteAgo === undefined)
    return {
      consumedPerSecond: 0,
      writtenPerSecond: 0,
      deadLettersPerSecond: {},
      latencyMs: { p50: null, p95: null, p99: null },
      batchRows: { avg: null, max: null },
    }
  const seconds = (last.t - tenAgo.t) / 1_000
  const deadLettersPerSecond: Record<string, number> = {}
  for (const [reason, n] of last.deadLetters)
    deadLettersPerSecond[reason] = perSecond(tenAgo.deadLetters.get(reason) ?? 0, n, seconds)
  const latency = latencyDelta(minuteAgo, last)
  const batches = last.batches - minuteAgo.batches
  return {
    consumedPerSecond: perSecond(tenAgo.consumed, last.consumed, seconds),
    writtenPerSecond: perSecond(tenAgo.written, last.written, seconds),
    deadLettersPerSecond,
    latencyMs: {
      p50: quantileMs(latency, 0.5),
      p95: quantileMs(latency, 0.95),
      p99: quantileMs(latency, 0.99),
    },
    batchRows: {
      avg: batches > 0 ? (last.batchRowsSum - minuteAgo.batchRowsSum) / batches : null,
      max: batches > 0 ? Math.max(...samples.slice(1).map((s) => s.maxBatchRows)) : null,
    },
  }
}

/** One ingest_stats row: what happened between two samples. */
const statsRow = (
  processor: string,
  from: Sample,
  to: Sample,
  maxBatchRows: number,
  lag: number,
): TableRow<"ingest_stats"> => ({
  ts: Math.floor(to.t / 1_000),
  processor,
  seconds: (to.t - from.t) / 1_000,
  consumed: to.consumed - from.consumed,
  written: to.written - from.written,
  dead_letters: Object.fromEntries(
    [...to.deadLetters]
      .map(([reason, n]) => [reason, n - (from.deadLetters.get(reason) ?? 0)] as const)
      .filter(([, n]) => n > 0),
  ),
  batches: to.batches - from.batches,
  max_batch_rows: maxBatchRows,
  sink_retries: to.sinkFailures - from.sinkFailures,
  latency_buckets: latencyDelta(from, to),
  max_lag_records: lag,
})

const KEEP = 61
// ingest_stats gets a row this often: the console's day-long panels need no finer grain.
const STATS_EVERY_SECONDS = 5

/**
 * Samples every second; every 5 s writes an ingest_stats row (a failed write is logged and the
 * interval is folded into the next row: counters are cumulative).
 */
export const SamplerLive: Layer.Layer<Sampler, never, Metrics | ClickHouse> = Layer.scoped(
  Sampler,
  Effect.gen(function* () {
    const metrics = yield* Metrics
    const ch = yield* ClickHouse
    const processor = `${os.hostname()}:${process.pid}`
    const start = take(metrics, yield* Clock.currentTimeMillis)
    const samples = yield* Ref.make<ReadonlyArray<Sample>>([start])
    const written = yield* Ref.make(start)
    let tick = 0
    const step = Effect.gen(function* () {
      const now = take(metrics, yield* Clock.currentTimeMillis)
      const all = yield* Ref.updateAndGet(samples, (s) => [...s, now].slice(-KEEP))
      tick += 1
      if (tick % STATS_EVERY_SECONDS !== 0) return
      const from = yield* Ref.get(written)
      const since = all.filter((s) => s.t > from.t)
      const maxBatchRows = Math.max(0, ...since.map((s) => s.maxBatchRows))
      const lag = Math.max(0, ...metrics.lag.values())
      yield* ch.insert("ingest_stats", [statsRow(processor, from, now, maxBatchRows, lag)]).pipe(
        Effect.zipRight(Ref.set(written, now)),
        Effect.catchAll((e) =>
          Effect.logWarning(`writing ingest_stats failed (folded into the next row): ${e.message}`),
        ),
      )
    })
    yield* Effect.forkScoped(Effect.repeat(step, Schedule.spaced("1 second")))
    return { recent: Effect.map(Ref.get(samples), summarize) }
  }),
)
