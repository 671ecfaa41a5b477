import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { recordHealthMetrics } from "../src/health.ts"
import { Metrics, MetricsLive, ProcessorMetrics } from "../src/metrics.ts"

// Every metric /metrics exposed before prom-client, with its type and help, verbatim: dashboards,
// alerts and the chaos suite's scrapers read these names.
const EXPOSED = `# HELP rtoa_events_fetched_total Kafka records fetched into the source buffer.
# TYPE rtoa_events_fetched_total counter
# HELP rtoa_events_consumed_total Kafka records processed (written or dead-lettered) and committed.
# TYPE rtoa_events_consumed_total counter
# HELP rtoa_source_buffered_records Fetched records not yet processed (bounded by SOURCE_QUEUE_CAPACITY).
# TYPE rtoa_source_buffered_records gauge
# HELP rtoa_events_written_total Valid events written to ClickHouse.
# TYPE rtoa_events_written_total counter
# HELP rtoa_batches_total Micro-batches written and committed.
# TYPE rtoa_batches_total counter
# HELP rtoa_sink_failures_total Failed ClickHouse writes (each retried).
# TYPE rtoa_sink_failures_total counter
# HELP rtoa_commit_failures_total Failed offset commits (the next commit covers them).
# TYPE rtoa_commit_failures_total counter
# HELP rtoa_dead_letters_total Records sent to the dead-letter topic, by reason.
# TYPE rtoa_dead_letters_total counter
# HELP rtoa_consumer_lag Records behind the partition's high watermark after the last batch.
# TYPE rtoa_consumer_lag gauge
# HELP rtoa_end_to_end_latency_seconds From the event's Kafka timestamp to its sink acknowledgement.
# TYPE rtoa_end_to_end_latency_seconds histogram
# HELP rtoa_batch_rows Records per micro-batch.
# TYPE rtoa_batch_rows histogram
# HELP rtoa_processor_state 1 for the processor's current state (running, backing_off, stalled, failed, starting).
# TYPE rtoa_processor_state gauge
# HELP rtoa_processor_state_seconds Seconds since the processor entered its current state.
# TYPE rtoa_processor_state_seconds gauge
# HELP rtoa_pending_records Records fetched but not committed, plus the last known consumer lag.
# TYPE rtoa_pending_records gauge`.split("\n")

const scrape = async (m: ProcessorMetrics) => {
  recordHealthMetrics(m.registry, { state: "running", since: 1_000, pending: 11 }, 4_000)
  return m.render()
}

const sampleMetrics = () => {
  const m = new ProcessorMetrics()
  m.fetched = 9
  m.recordBatch({
    consumed: 5,
    written: 4,
    deadLetters: ["invalid", "invalid", "schema"],
    latenciesSeconds: [0.1, 0.2, 0.3, 0.4, 100],
    lag: new Map([
      [0, 7],
      [2, 1],
    ]),
  })
  m.sinkFailures = 2
  return m
}

describe("/metrics exposition", () => {
  it("keeps every metric's name, type and help", async () => {
    const text = await scrape(sampleMetrics())
    expect(text.split("\n").filter((l) => l.startsWith("# "))).toEqual(expect.arrayContaining(EXPOSED))
    expect(text.split("\n").filter((l) => l.startsWith("# ")).length).toBe(EXPOSED.length)
  })

  it("renders the values as before", async () => {
    const lines = (await scrape(sampleMetrics())).split("\n")
    expect(lines).toEqual(
      expect.arrayContaining([
        "rtoa_events_fetched_total 9",
        "rtoa_events_consumed_total 5",
        "rtoa_source_buffered_records 4",
        "rtoa_events_written_total 4",
        "rtoa_batches_total 1",
        "rtoa_sink_failures_total 2",
        "rtoa_commit_failures_total 0",
        'rtoa_dead_letters_total{reason="invalid"} 2',
        'rtoa_dead_letters_total{reason="schema"} 1',
        'rtoa_consumer_lag{partition="0"} 7',
        'rtoa_consumer_lag{partition="2"} 1',
        'rtoa_end_to_end_latency_seconds_bucket{le="0.1"} 1',
        'rtoa_end_to_end_latency_seconds_bucket{le="0.4"} 4',
        'rtoa_end_to_end_latency_seconds_bucket{le="60"} 4',
        'rtoa_end_to_end_latency_seconds_bucket{le="+Inf"} 5',
        "rtoa_end_to_end_latency_seconds_count 5",
        'rtoa_batch_rows_bucket{le="10"} 1',
        'rtoa_processor_state{state="running"} 1',
        'rtoa_processor_state{state="starting"} 0',
        "rtoa_processor_state_seconds 3",
        "rtoa_pending_records 11",
      ]),
    )
  })

  it("reads the counters at each scrape; each instance has its own registry", async () => {
    const a = new ProcessorMetrics()
    const b = new ProcessorMetrics()
    a.sinkFailures += 3
    expect(await scrape(a)).toMatch(/^rtoa_sink_failures_total 3$/m)
    expect(await scrape(b)).toMatch(/^rtoa_sink_failures_total 0$/m)
    a.sinkFailures += 1
    a.deadLetters.set("invalid", 1)
    const again = await scrape(a)
    expect(again).toMatch(/^rtoa_sink_failures_total 4$/m)
    expect(again).toMatch(/^rtoa_dead_letters_total\{reason="invalid"\} 1$/m)
  })

  it.effect("the live layer adds prom-client's process and Node.js metrics under their usual names", () =>
    Effect.gen(function* () {
      const metrics = yield* Metrics
      const text = yield* Effect.promise(() => scrape(metrics))
      for (const name of [
        "process_cpu_user_seconds_total",
        "process_resident_memory_bytes",
        "nodejs_heap_size_used_bytes",
        "nodejs_eventloop_lag_seconds",
        "nodejs_gc_duration_seconds",
      ])
        expect(text).toMatch(new RegExp(`^# TYPE ${name} `, "m"))
      expect(text).toMatch(/^rtoa_events_consumed_total 0$/m)
    }).pipe(Effect.provide(MetricsLive)),
  )
})
