import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { describe, expect, it } from "@effect/vitest"
import { Chunk, Effect, Exit, Fiber, TestClock } from "effect"
import { type ProducerOptions, runProducer } from "../src/producer.ts"
import { memoryTerminal } from "../src/report.ts"
import { type MemorySinkOptions, makeMemorySink } from "../src/sink.ts"
import type { TruthRecord } from "../src/truth.ts"

const base = (overrides: Partial<ProducerOptions> = {}) => {
  const terminal = memoryTerminal()
  const options: ProducerOptions = {
    rate: 100,
    total: undefined,
    users: 500,
    duplicateRatio: 0.05,
    malformedRatio: 0.05,
    poisonRatio: 0,
    lateRatio: 0.02,
    seed: 1,
    truthFile: undefined,
    terminal,
    ...overrides,
  }
  return { options, terminal }
}

/** Real time passes (the truth file opens with real I/O, which TestClock does not drive). */
const realPause = Effect.promise(() => new Promise((resolve) => setTimeout(resolve, 2)))

/**
 * Starts the producer on simulated time and returns its fiber once it waits on the clock: opening
 * the truth file is real I/O, and advancing the clock before the producer got there would skip
 * the moments a test means to observe (a flake seen on a loaded machine).
 */
const start = (options: ProducerOptions, sinkOptions: MemorySinkOptions = {}) =>
  Effect.gen(function* () {
    const sink = makeMemorySink(sinkOptions)
    const fiber = yield* Effect.fork(runProducer(options).pipe(Effect.provide(sink.layer)))
    while (Chunk.isEmpty(yield* TestClock.sleeps())) yield* realPause
    return { sink, fiber }
  })

/** Interrupts like Ctrl-C would, while letting simulated time pass for the shutdown. */
const stop = <A, E>(fiber: Fiber.Fiber<A, E>) =>
  Effect.gen(function* () {
    const interrupting = yield* Effect.fork(Fiber.interrupt(fiber))
    yield* TestClock.adjust("20 seconds")
    return yield* Fiber.join(interrupting)
  })

const readTruth = (file: string): ReadonlyArray<TruthRecord> =>
  fs
    .readFileSync(file, "utf8")
    .split("\n")
    .filter((l) => l.length > 0)
    .map((l) => JSON.parse(l) as TruthRecord)

const tmpFile = (name: string) => path.join(fs.mkdtempSync(path.join(os.tmpdir(), "producer-test-")), name)

describe("runProducer", () => {
  it.effect("sends exactly `total` messages at the rate, writes the truth log and a summary", () =>
    Effect.gen(function* () {
      const truthFile = tmpFile("truth.jsonl")
      const { options, terminal } = base({ total: 250, truthFile })
      const { sink, fiber } = yield* start(options)
      yield* TestClock.adjust("3 seconds")
      const summary = yield* Fiber.join(fiber)

      expect(summary).toMatchObject({
        outcome: "completed",
        sent: 250,
        skipped: 0,
        unacked: 0,
        targetRate: 100,
      })
      expect(summary.valid + summary.duplicates + summary.malformed).toBe(250)
      expect(summary.elapsedMs).toBe(2_500) // the 250th message falls due at 2.5 s
      expect(summary.achievedRate).toBe(100)
      expect(sink.sent()).toHaveLength(250)
      expect(sink.sent().filter((m) => m.kind === "duplicate")).toHaveLength(summary.duplicates)

      const truth = readTruth(truthFile)
      expect(truth).toHaveLength(250)
      expect(truth.filter((t) => t.kind === "malformed")).toHaveLength(summary.malformed)
      const first = truth.find((t) => t.kind === "valid")
      expect(first).toMatchObject({
        minute: "1970-01-01T00:00:00Z",
        event_id: expect.stringMatching(/^p1-0-\d+$/),
      })
      expect(Object.keys(first ?? {}).sort()).toEqual(
        ["dimension_channel", "event_id", "event_source", "event_type", "kind", "minute", "user_id"].sort(),
      )

      const lines = terminal.output().trimEnd().split("\n")
      expect(lines).toHaveLength(3) // progress at 1 s and 2 s, then the summary
      expect(lines[0]).toMatch(/^producer 1\.0s {2}sent 100 {2}100\.0\/s \(target 100\/s\)/)
      expect(lines[2]).toMatch(/^producer completed: sent 250 .* in 2\.5 s, achieved 100\.0 msg\/s/)
    }),
  )

  it.effect("keeps sending at the target rate until interrupted, then finishes and reports", () =>
    Effect.gen(function* () {
      const truthFile = tmpFile("truth.jsonl")
      const { options, terminal } = base({ rate: 1_000, truthFile })
      const { sink, fiber } = yield* start(options, { latency: "30 millis" })
      yield* TestClock.adjust("2 seconds")
      const exit = yield* stop(fiber)
      expect(Exit.isInterrupted(exit)).toBe(true)
      // Everything claimed by 2 s was acknowledged before shutdown completed; nothing abandoned.
      expect(sink.sent()).toHaveLength(2_000)
      expect(readTruth(truthFile)).toHaveLength(2_000)
      const output = terminal.output()
      expect(output).toMatch(/^producer 1\.0s {2}sent 970 .*\nproducer 2\.0s {2}sent 1,970 {2}1,000\.0\/s/)
      // The last send's 30 ms acknowledgement counts against the achieved rate: 2,000 / 2.03 s.
      expect(output).toMatch(
        /\nproducer stopped: sent 2,000 .* in 2\.0 s, achieved 985\.2 msg\/s \(target 1,000\/s\)\n$/,
      )
    }),
  )

  it.effect("abandons sends still in flight after the shutdown timeout and logs them as unacknowledged", () =>
    Effect.gen(function* () {
      const truthFile = tmpFile("truth.jsonl")
      const { options, terminal } = base({ rate: 10, truthFile, shutdownTimeout: "1 second" })
      const { sink, fiber } = yield* start(options, { latency: "1 minute" })
      yield* TestClock.adjust("2 seconds")
      yield* stop(fiber)
      expect(sink.sent()).toHaveLength(0)
      const truth = readTruth(truthFile)
      expect(truth.length).toBeGreaterThan(0)
      expect(truth.every((t) => t.unacked === true)).toBe(true)
      expect(terminal.output()).toMatch(
        new RegExp(`producer stopped: sent 0 .*, ${truth.length} unacknowledged\\n$`),
      )
    }),
  )

  it.effect("bounds in-flight sends and reports the rate it really achieved when the sink is slow", () =>
    Effect.gen(function* () {
      // 2 slots x 100 messages per 500 ms send = at most 400/s against a target of 1,000/s.
      const { options, terminal } = base({ rate: 1_000, total: 2_000, maxInFlight: 2, maxBatch: 100 })
      const { sink, fiber } = yield* start(options, { latency: "500 millis" })
      yield* TestClock.adjust("6 seconds")
      const summary = yield* Fiber.join(fiber)
      expect(sink.maxConcurrent()).toBe(2)
      expect(summary.sent).toBe(2_000)
      expect(summary.skipped).toBeGreaterThan(0)
      expect(summary.achievedRate).toBeLessThanOrEqual(400)
      expect(summary.achievedRate).toBeGreaterThan(350)
      expect(terminal.output()).toMatch(/skipped [\d,]+ \(behind\)/)
    }),
  )

  it.effect("retries a failed batch and counts it once", () =>
    Effect.gen(function* () {
      const { options } = base({ rate: 10, total: 5, maxInFlight: 1 })
      const { sink, fiber } = yield* start(options, { failFirst: 2 })
      yield* TestClock.adjust("10 seconds")
      const summary = yield* Fiber.join(fiber)
      expect(summary).toMatchObject({ outcome: "completed", sent: 5, unacked: 0 })
      expect(sink.sent()).toHaveLength(5)
      // Two failed attempts, then the (re-sent) batches; messages that fell due meanwhile join the next one.
      expect(sink.attempts()).toBeGreaterThanOrEqual(3)
      const ids = sink.sent().flatMap((m) => (m.kind === "valid" && m.event ? [m.event.event_id] : []))
      expect(new Set(ids).size).toBe(ids.length)
    }),
  )

  it.effect("fails with a KafkaError once retries run out, logging the batch as unacknowledged", () =>
    Effect.gen(function* () {
      const truthFile = tmpFile("truth.jsonl")
      const { options, terminal } = base({
        rate: 10,
        total: 5,
        maxInFlight: 1,
        retryFor: "3 seconds",
        truthFile,
      })
      const { fiber } = yield* start(options, { failFirst: 1_000 })
      yield* TestClock.adjust("30 seconds")
      const exit = yield* Fiber.await(fiber)
      expect(exit).toMatchObject({ _tag: "Failure", cause: { error: { _tag: "KafkaError" } } })
      expect(readTruth(truthFile).every((t) => t.unacked === true)).toBe(true)
      expect(terminal.output()).toMatch(/producer failed: sent 0 .*, 1 unacknowledged\n$/)
    }),
  )

  it.effect("overwrites the progress line on a terminal", () =>
    Effect.gen(function* () {
      const terminal = memoryTerminal(true)
      const { options } = base({ total: 150, terminal })
      const { fiber } = yield* start(options)
      yield* TestClock.adjust("2 seconds")
      yield* Fiber.join(fiber)
      const out = terminal.output()
      expect(out.startsWith("\rproducer 1.0s ")).toBe(true)
      expect(out).toContain("\x1b[K\rproducer completed: ")
      expect(out.endsWith("\x1b[K\n")).toBe(true)
      expect(out).not.toContain("\n\r")
    }),
  )

  it.effect("refuses unusable options before sending anything", () =>
    Effect.gen(function* () {
      const { options } = base({ rate: 0 })
      const exit = yield* Effect.exit(runProducer(options).pipe(Effect.provide(makeMemorySink().layer)))
      expect(exit).toMatchObject({ _tag: "Failure", cause: { error: { _tag: "ProducerOptionsError" } } })
    }),
  )
})
