import { decodeMessage } from "@rtoa/core"
import { Duration, Effect, Layer, Schedule } from "effect"
import {
  DeadLetterSink,
  EventSink,
  EventSource,
  makeInMemoryDeadLetters,
  makeInMemorySink,
  makeInMemorySource,
  PipelineObserver,
  type PipelineObserverService,
  type PipelineSettings,
  type RawEventRow,
  type SinkBatch,
  sourceRecord,
  type TopicPartitionOffset,
  type WrittenBatch,
} from "../src/index.ts"

export const T0 = Date.parse("2026-11-25T10:00:00.000Z")

export const eventJson = (i: number, overrides: Record<string, unknown> = {}) =>
  JSON.stringify({
    event_id: `e-${i}`,
    user_id: `u-${i % 7}`,
    event_type: "click",
    dimension_channel: i % 2 === 0 ? "Web" : "Mobile",
    event_source: "web-frontend",
    event_time: new Date(T0 + i * 1_000).toISOString(),
    ...overrides,
  })

/** The pipeline settings tests do not vary: default decode limits, no dead-letter limit. */
export const pipelineDefaults = {
  futureAgainst: "clock",
  decode: decodeMessage,
  maxPartitionsPerInsert: 100,
  deadLetterLimits: { maxRatio: 1, ratioWindow: 10_000, maxConsecutive: 0, maxPayloadBytes: 65_536 },
} satisfies Partial<PipelineSettings>

/** Settings for a pipeline test: batches of 10 or 200 ms, a retry every second; `overrides` on top. */
export const testSettings = (overrides: Partial<PipelineSettings> = {}): PipelineSettings => ({
  batchMaxRows: 10,
  batchMaxWait: Duration.millis(200),
  maxClockSkew: Duration.minutes(5),
  retry: Schedule.spaced("1 second"),
  ...pipelineDefaults,
  ...overrides,
})

/** Lets forked fibers run until they block (on the queue or the clock). */
export const settle = Effect.repeatN(Effect.yieldNow(), 50)

/** `count` valid event records on one partition, offsets from `first`. */
export const records = (count: number, first = 0, partition = 0) =>
  Array.from({ length: count }, (_, k) =>
    sourceRecord(partition, first + k, eventJson(first + k), { timestamp: T0 }),
  )

/**
 * The pipeline wired to in-memory stages. The journal records sink writes and commits in the
 * order they happened, so tests can check that a commit never precedes its write. `layer` has a
 * recording observer (`observed`); `stagesLayer` has none, for a test that brings its own.
 */
export const inMemoryStages = (
  options: {
    readonly sinkFailures?: number
    readonly sinkFailure?: "Unavailable" | "Schema"
    readonly sourceCapacity?: number
    readonly sinkRejects?: (row: RawEventRow) => boolean
  } = {},
) =>
  Effect.gen(function* () {
    const journal: Array<string> = []
    const source = yield* makeInMemorySource(
      (offsets: ReadonlyArray<TopicPartitionOffset>) =>
        Effect.sync(() =>
          journal.push(`commit ${offsets.map((o) => `${o.partition}@${o.offset}`).join(",")}`),
        ),
      options.sourceCapacity,
    )
    const sink = yield* makeInMemorySink({
      failures: options.sinkFailures ?? 0,
      ...(options.sinkFailure === undefined ? {} : { failure: options.sinkFailure }),
      ...(options.sinkRejects === undefined ? {} : { rejects: options.sinkRejects }),
      onWrite: (batch: SinkBatch) => Effect.sync(() => journal.push(`write ${batch.rows.length}`)),
    })
    const deadLetters = yield* makeInMemoryDeadLetters
    const observer = makeRecordingObserver()
    const stagesLayer = Layer.mergeAll(
      Layer.succeed(EventSource, source.service),
      Layer.succeed(EventSink, sink.service),
      Layer.succeed(DeadLetterSink, deadLetters.service),
    )
    const layer = Layer.merge(stagesLayer, Layer.succeed(PipelineObserver, observer.service))
    return { source, sink, deadLetters, observed: observer.observed, stagesLayer, layer, journal }
  })

/** What a recording observer saw (unit tests). */
export interface Observed {
  sinkFailures: number
  commitFailures: number
  commits: number
  /** Per member, why it is backing off now. */
  readonly backingOff: Map<string, string>
  readonly batches: Array<WrittenBatch>
}

export const makeRecordingObserver = (): {
  readonly service: PipelineObserverService
  readonly observed: Observed
} => {
  const observed: Observed = {
    sinkFailures: 0,
    commitFailures: 0,
    commits: 0,
    backingOff: new Map(),
    batches: [],
  }
  return {
    observed,
    service: {
      backingOff: (member, why) => Effect.sync(() => observed.backingOff.set(member, why)),
      recovered: (member) => Effect.sync(() => observed.backingOff.delete(member)),
      sinkFailed: Effect.sync(() => {
        observed.sinkFailures += 1
      }),
      committed: Effect.sync(() => {
        observed.commits += 1
      }),
      commitFailed: Effect.sync(() => {
        observed.commitFailures += 1
      }),
      batchWritten: (batch) => Effect.sync(() => observed.batches.push(batch)),
    },
  }
}
