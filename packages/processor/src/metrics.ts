import { Context, Effect, Layer } from "effect"

/**
 * Processor metrics in Prometheus text format. Hand-rolled rather than Effect's Metric module:
 * the latency histogram takes one observation per event, and at tens of thousands of events a
 * second that must be a plain loop over a batch, not an effect per event.
 */

/** Fine enough below a second for the console's p50/p95/p99 (interpolated within a bucket). */
export const LATENCY_BUCKETS = [
  0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.25, 0.3, 0.4, 0.5, 0.75, 1, 1.5, 2, 3, 5, 10, 30, 60,
] as const
const BATCH_BUCKETS = [1, 10, 100, 1_000, 5_000, 10_000, 50_000] as const

export class Histogram {
  readonly bounds: ReadonlyArray<number>
  readonly counts: Array<number>
  sum = 0
  count = 0
  constructor(bounds: ReadonlyArray<number>) {
    this.bounds = bounds
    this.counts = bounds.map(() => 0)
  }
  observe(value: number): void {
    this.sum += value
    this.count += 1
    for (let i = 0; i < this.bounds.length; i++) {
      if (value <= (this.bounds[i] ?? Number.POSITIVE_INFINITY)) {
        this.counts[i] = (this.counts[i] ?? 0) + 1
        return
      }
    }
  }
  render(name: string, help: string): string {
    const lines = [`# HELP ${name} ${help}`, `# TYPE ${name} histogram`]
    let cumulative = 0
    this.bounds.forEach((b, i) => {
      cumulative += this.counts[i] ?? 0
      lines.push(`${name}_bucket{le="${b}"} ${cumulative}`)
    })
    lines.push(
      `${name}_bucket{le="+Inf"} ${this.count}`,
      `${name}_sum ${this.sum}`,
      `${name}_count ${this.count}`,
    )
    return lines.join("\n")
  }
}

export interface BatchOutcome {
  readonly consumed: number
  readonly written: number
  readonly deadLetters: ReadonlyArray<string>
  /** Seconds from each written event's Kafka timestamp to the sink acknowledgement. */
  readonly latenciesSeconds: ReadonlyArray<number>
  /** Consumer lag per partition after this batch. */
  readonly lag: ReadonlyMap<number, number>
  /** Kafka timestamp of the last record processed, per partition (lag in seconds). */
  readonly lastTimestamps?: ReadonlyMap<number, number>
  /** The newest event_time written (freshness). */
  readonly newestEventTime?: number
}

export class ProcessorMetrics {
  /** Records handed over by the Kafka client (fetched), whether or not processed yet. */
  fetched = 0
  consumed = 0
  written = 0
  batches = 0
  sinkFailures = 0
  commitFailures = 0
  readonly deadLetters = new Map<string, number>()
  readonly lag = new Map<number, number>()
  readonly latency = new Histogram(LATENCY_BUCKETS)
  readonly batchRows = new Histogram(BATCH_BUCKETS)
  readonly lastTimestamps = new Map<number, number>()
  newestEventTime: number | undefined = undefined
  /** The largest batch since the console's sampler last read it (it resets this). */
  maxBatchRows = 0

  recordBatch(outcome: BatchOutcome): void {
    this.batches += 1
    this.consumed += outcome.consumed
    this.written += outcome.written
    this.batchRows.observe(outcome.consumed)
    for (const reason of outcome.deadLetters)
      this.deadLetters.set(reason, (this.deadLetters.get(reason) ?? 0) + 1)
    for (const s of outcome.latenciesSeconds) this.latency.observe(s)
    for (const [partition, lag] of outcome.lag) this.lag.set(partition, lag)
    for (const [partition, ts] of outcome.lastTimestamps ?? []) this.lastTimestamps.set(partition, ts)
    if (outcome.newestEventTime !== undefined && !(outcome.newestEventTime <= (this.newestEventTime ?? -1)))
      this.newestEventTime = outcome.newestEventTime
    if (outcome.consumed > this.maxBatchRows) this.maxBatchRows = outcome.consumed
  }

  get deadLetterTotal(): number {
    let total = 0
    for (const n of this.deadLetters.values()) total += n
    return total
  }

  render(): string {
    const counter = (name: string, help: string, value: number) =>
      `# HELP ${name} ${help}\n# TYPE ${name} counter\n${name} ${value}`
    const dlq = [...this.deadLetters].map(([reason, n]) => `rtoa_dead_letters_total{reason="${reason}"} ${n}`)
    const lag = [...this.lag].map(([p, n]) => `rtoa_consumer_lag{partition="${p}"} ${n}`)
    return [
      counter("rtoa_events_fetched_total", "Kafka records fetched into the source buffer.", this.fetched),
      counter(
        "rtoa_events_consumed_total",
        "Kafka records processed (written or dead-lettered) and committed.",
        this.consumed,
      ),
      `# HELP rtoa_source_buffered_records Fetched records not yet processed (bounded by SOURCE_QUEUE_CAPACITY).\n# TYPE rtoa_source_buffered_records gauge\nrtoa_source_buffered_records ${this.fetched - this.consumed}`,
      counter("rtoa_events_written_total", "Valid events written to ClickHouse.", this.written),
      counter("rtoa_batches_total", "Micro-batches written and committed.", this.batches),
      counter("rtoa_sink_failures_total", "Failed ClickHouse writes (each retried).", this.sinkFailures),
      counter(
        "rtoa_commit_failures_total",
        "Failed offset commits (the next commit covers them).",
        this.commitFailures,
      ),
      `# HELP rtoa_dead_letters_total Records sent to the dead-letter topic, by reason.\n# TYPE rtoa_dead_letters_total counter${dlq.length > 0 ? `\n${dlq.join("\n")}` : ""}`,
      `# HELP rtoa_consumer_lag Records behind the partition's high watermark after the last batch.\n# TYPE rtoa_consumer_lag gauge${lag.length > 0 ? `\n${lag.join("\n")}` : ""}`,
      this.latency.render(
        "rtoa_end_to_end_latency_seconds",
        "From the event's Kafka timestamp to its sink acknowledgement.",
      ),
      this.batchRows.render("rtoa_batch_rows", "Records per micro-batch."),
    ].join("\n\n")
  }
}

export class Metrics extends Context.Tag("rtoa/Metrics")<Metrics, ProcessorMetrics>() {}

export const MetricsLive: Layer.Layer<Metrics> = Layer.sync(Metrics, () => new ProcessorMetrics())

/** Runs `f` against the metrics registry (a synchronous update). */
export const updateMetrics = (f: (m: ProcessorMetrics) => void) => Effect.map(Metrics, f)

/**
 * Consumer lag per partition now: records behind the high watermark (after the last batch) and
 * about how long the oldest of them waited, taken as the time since the last record processed
 * there was produced (0 when nothing is behind).
 */
export const lagNow = (m: ProcessorMetrics, nowMs: number) =>
  [...m.lag]
    .sort(([a], [b]) => a - b)
    .map(([partition, records]) => {
      const last = m.lastTimestamps.get(partition)
      const seconds = records > 0 && last !== undefined ? Math.max(0, (nowMs - last) / 1_000) : 0
      return { partition, records, seconds }
    })
