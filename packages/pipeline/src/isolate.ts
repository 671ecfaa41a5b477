import type { ClickHouseError } from "@rtoa/core"
import { Effect, type Schedule } from "effect"
import type { DeadLetter, DecodedEvent, SinkBatch } from "./model.ts"
import { EventSink, writeRowsFirst } from "./sink.ts"
import { toSinkBatch } from "./window.ts"

/**
 * The write step between the window stage and the commit: inserts that never span more than the
 * engine's partition limit, transient failures retried with backoff, and rows the engine refuses
 * isolated (by halving the failing insert) and returned as dead letters, so the rest of the batch
 * is written and one bad row cannot hold up ingestion. A schema or access error is fatal.
 */

export interface WriteSettings {
  /** Backoff for transient failures; the write is retried until it lands (offsets stay held). */
  readonly retry: Schedule.Schedule<unknown, unknown>
  /** Distinct partitions one INSERT may touch (the engine's max_partitions_per_insert_block). */
  readonly maxPartitionsPerInsert: number
}

export interface WriteHooks {
  /** A write failed and will be retried. */
  readonly retrying: (error: ClickHouseError) => Effect.Effect<void>
  /** A write went through. */
  readonly succeeded: Effect.Effect<void>
}

/** What one INSERT pair writes: some of a batch's events and their rows. */
export interface WriteGroup {
  readonly events: ReadonlyArray<DecodedEvent>
  readonly batch: SinkBatch
}

const DAY_MS = 86_400_000

/**
 * Splits events so that no group spans more than `maxPartitions` UTC days: raw_events is
 * partitioned by day (metrics_minutely by month, so a day limit bounds both). A batch within the
 * limit, the usual case, stays one group in its original order.
 */
export const splitByPartitions = (
  events: ReadonlyArray<DecodedEvent>,
  maxPartitions: number,
): ReadonlyArray<ReadonlyArray<DecodedEvent>> => {
  if (events.length === 0) return []
  const byDay = new Map<number, Array<DecodedEvent>>()
  for (const e of events) {
    const day = Math.floor(e.event.event_time / DAY_MS)
    const list = byDay.get(day)
    if (list === undefined) byDay.set(day, [e])
    else list.push(e)
  }
  if (byDay.size <= maxPartitions) return [events]
  const days = [...byDay.keys()].sort((a, b) => a - b)
  const groups: Array<Array<DecodedEvent>> = []
  for (let i = 0; i < days.length; i += maxPartitions)
    groups.push(days.slice(i, i + maxPartitions).flatMap((d) => byDay.get(d) ?? []))
  return groups
}

export const writeGroups = (
  events: ReadonlyArray<DecodedEvent>,
  maxPartitions: number,
): ReadonlyArray<WriteGroup> =>
  splitByPartitions(events, maxPartitions).map((group) => ({ events: group, batch: toSinkBatch(group) }))

const retryable = (e: ClickHouseError) => e.reason !== "Rejected" && e.reason !== "Schema"

const rejectedLetter = (event: DecodedEvent, error: ClickHouseError): DeadLetter => ({
  record: event.record,
  reason: "rejected_by_clickhouse",
  detail: `${error.code === undefined ? "" : `code ${error.code}: `}${error.message.trim()}`,
})

/** A write of group `group` (its index among the groups) that failed with `error`. */
export interface GroupFailure {
  readonly group: number
  readonly error: ClickHouseError
}

/**
 * Writes the groups; returns the events the engine refused, as dead letters. `failedFirst`: that
 * group's first write already failed (writeRowsAhead's), so its retries go on from there.
 */
export const writeIsolating = (
  groups: ReadonlyArray<WriteGroup>,
  settings: WriteSettings,
  hooks: WriteHooks,
  failedFirst?: GroupFailure,
): Effect.Effect<ReadonlyArray<DeadLetter>, ClickHouseError, EventSink> =>
  Effect.gen(function* () {
    const sink = yield* EventSink
    let failure: ClickHouseError | undefined
    const write = (batch: SinkBatch) =>
      Effect.suspend(() => {
        const failed = failure
        failure = undefined
        return failed === undefined ? sink.write(batch) : Effect.fail(failed)
      })
    const attempt = (batch: SinkBatch) =>
      write(batch).pipe(
        Effect.tapError((e) => (retryable(e) ? hooks.retrying(e) : Effect.void)),
        Effect.retry({ schedule: settings.retry, while: retryable }),
        Effect.zipLeft(hooks.succeeded),
      )
    // Halving finds k bad rows among n in about k * log2(n) inserts; the good halves are written
    // as they are found (idempotent: a half written again changes nothing).
    const isolate = (
      events: ReadonlyArray<DecodedEvent>,
      batch: SinkBatch,
    ): Effect.Effect<ReadonlyArray<DeadLetter>, ClickHouseError> =>
      attempt(batch).pipe(
        Effect.as([] as ReadonlyArray<DeadLetter>),
        Effect.catchIf(
          (e) => e.reason === "Rejected",
          (e) => {
            const [first] = events
            if (events.length === 1 && first !== undefined) return Effect.succeed([rejectedLetter(first, e)])
            const half = Math.ceil(events.length / 2)
            const left = events.slice(0, half)
            const right = events.slice(half)
            return Effect.zipWith(
              isolate(left, toSinkBatch(left)),
              isolate(right, toSinkBatch(right)),
              (a, b) => [...a, ...b],
            )
          },
        ),
      )
    const letters: Array<DeadLetter> = []
    for (const [i, g] of groups.entries()) {
      failure = failedFirst?.group === i ? failedFirst.error : undefined
      letters.push(...(yield* isolate(g.events, g.batch)))
    }
    return letters
  })

/**
 * The happy path of writeIsolating, in two steps: the groups' rows are written now and their
 * aggregates started; the returned effect waits for those (the pipeline runs it while the next
 * batch's rows go in). Any failure of either step hands the groups to writeIsolating, which
 * writes them again in order with its retries and isolation (every write is idempotent).
 */
export const writeRowsAhead = (
  groups: ReadonlyArray<WriteGroup>,
  settings: WriteSettings,
  hooks: WriteHooks,
): Effect.Effect<Effect.Effect<ReadonlyArray<DeadLetter>, ClickHouseError, EventSink>, never, EventSink> =>
  Effect.gen(function* () {
    if (groups.length === 0) return Effect.succeed([])
    const sink = yield* EventSink
    const sequential = (f: GroupFailure) => writeIsolating(groups, settings, hooks, f)
    const inGroup = (group: number) => (error: ClickHouseError) => ({ group, error })
    return yield* Effect.forEach(groups, (g, i) =>
      Effect.mapError(writeRowsFirst(sink, g.batch), inGroup(i)),
    ).pipe(
      Effect.map((rest) =>
        Effect.forEach(rest, (aggregates, i) => Effect.mapError(aggregates, inGroup(i)), {
          discard: true,
        }).pipe(
          Effect.zipRight(hooks.succeeded),
          Effect.as([] as ReadonlyArray<DeadLetter>),
          Effect.catchAll(sequential),
        ),
      ),
      Effect.catchAll((f) => Effect.succeed(sequential(f))),
    )
  })
