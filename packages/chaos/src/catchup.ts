import { Effect } from "effect"
import type { Kafka } from "kafkajs"
import { groupProgress, type PartitionProgress, queryRows } from "./observe.ts"

/** Records of the topic the group has not committed yet; undefined if the offsets are unknown. */
export const groupLag = (progress: ReadonlyArray<PartitionProgress>): number | undefined =>
  progress.length === 0
    ? undefined
    : progress.reduce((n, p) => n + Math.max(0, p.end - Math.max(0, p.committed)), 0)

/**
 * Gives up on a wait only once it stops moving, or after a generous cap: a loaded 2-core box makes
 * the pipeline slow, not stuck, and a fixed timeout turned that slowness into failed runs.
 */
export const stallWatch = (stallMs: number, capMs: number, start: number) => {
  let least = Number.POSITIVE_INFINITY
  let movedAt = start
  /** Records the work left (NaN: unknown) at `now`; returns why to give up, or undefined. */
  return (left: number, now: number): string | undefined => {
    if (left < least) {
      least = left
      movedAt = now
    }
    if (now - movedAt >= stallMs) return `no progress for ${Math.round((now - movedAt) / 1_000)} s`
    if (now - start >= capMs) return `not done after ${Math.round((now - start) / 1_000)} s`
    return undefined
  }
}

export interface CatchUpSettings {
  readonly port: number
  readonly kafka: Kafka
  readonly groupId: string
  readonly topic: string
  /** Distinct valid events the truth says raw_events must hold. */
  readonly target: number
  /** Give up after this long without progress (rows or commits)... */
  readonly stallMs: number
  /** ...or after this long in any case. */
  readonly capMs: number
  readonly log: (line: string) => Effect.Effect<void>
}

const count = (port: number, sql: string) =>
  queryRows(port, sql).pipe(
    Effect.map((rows) => Number(rows[0]?.n ?? 0)),
    Effect.orElseSucceed(() => -1),
  )

const metricsEvents =
  "SELECT sum(e) AS n FROM (SELECT uniqExactMerge(event_count_state) AS e FROM metrics_minutely GROUP BY time_window)"

/**
 * Waits until the processor is done: raw_events holds every valid event AND the group has
 * committed every partition to its end. The row count alone is not enough: a processor killed
 * between its raw_events insert and its metrics insert or dead-letter publish leaves the rows
 * counted while its batch is uncommitted; only the replay by the next processor (after the dead
 * members' session timeout) completes it. A commit comes only after every sink acknowledged.
 * Returns whether it caught up; on a timeout the comparison still runs and shows what is missing.
 */
export const catchUp = (s: CatchUpSettings) =>
  Effect.gen(function* () {
    const giveUp = stallWatch(s.stallMs, s.capMs, Date.now())
    let rowsComplete = false
    for (;;) {
      // Offsets first: rows counted after a commit include everything that commit covers.
      const progress = yield* groupProgress(s.kafka, s.groupId, s.topic).pipe(Effect.orElseSucceed(() => []))
      const raw = yield* count(s.port, "SELECT count() AS n FROM raw_events FINAL")
      const lag = groupLag(progress)
      if (raw >= s.target && !rowsComplete) {
        rowsComplete = true
        // Where the suite used to stop waiting (row count, then 3 s): is the work really done then?
        yield* Effect.sleep("3 seconds")
        const later = groupLag(
          yield* groupProgress(s.kafka, s.groupId, s.topic).pipe(Effect.orElseSucceed(() => [])),
        )
        const metrics = yield* count(s.port, metricsEvents)
        yield* s.log(
          `raw_events holds all ${s.target} events; 3 s later: group lag ${later ?? "?"} record(s), metrics_minutely ${metrics} events`,
        )
        continue
      }
      if (raw >= s.target && lag === 0) {
        yield* s.log(`caught up: ${raw} distinct events, every partition committed to its end`)
        return true
      }
      // Everything committed means every sink acknowledged every record: waiting longer cannot
      // bring the missing rows, so compare now and let the verdict name them.
      if (raw >= 0 && lag === 0) {
        yield* s.log(
          `processor committed every partition to its end, but raw_events FINAL holds ${raw} of ${s.target}`,
        )
        return false
      }
      const left = raw < 0 || lag === undefined ? Number.NaN : Math.max(0, s.target - raw) + lag
      const why = giveUp(left, Date.now())
      if (why !== undefined) {
        const offsets = progress.map((p) => `${p.partition}: ${p.committed}/${p.end}`).join(", ")
        yield* s.log(
          `not caught up (${why}): raw_events FINAL ${raw} of ${s.target}, group lag ${lag ?? "?"} (committed/end ${offsets || "unknown"})`,
        )
        return false
      }
      yield* Effect.sleep("1 second")
    }
  })
