import { Context, Data, type Effect, type Option } from "effect"
import type { EventFilter } from "./rules.ts"

/** An input could not be read (ClickHouse down, a query timed out): the rule keeps its state. */
export class AlertInputsUnavailable extends Data.TaggedError("AlertInputsUnavailable")<{
  readonly message: string
  readonly cause?: unknown
}> {}

/**
 * What the alert rules observe. "Now" is Effect's Clock (TestClock in tests); a "complete minute"
 * is a whole UTC minute that ended before the current one started.
 */
export interface AlertInputsService {
  /**
   * Events per complete minute (exact, deduplicated), for the `minutes` minutes before the current
   * one, oldest first, matching every field the filter sets (empty filter: all events). A minute
   * without events is 0. Fewer entries than asked only where the data starts later (minutes before
   * the first event ever stored are left out); [] when there is no data yet.
   */
  readonly eventsPerMinute: (
    filter: EventFilter,
    minutes: number,
  ) => Effect.Effect<ReadonlyArray<number>, AlertInputsUnavailable>
  /** Unique users per complete minute, shaped exactly like `eventsPerMinute`. */
  readonly usersPerMinute: (
    filter: EventFilter,
    minutes: number,
  ) => Effect.Effect<ReadonlyArray<number>, AlertInputsUnavailable>
  /**
   * Over the last `windowSeconds`: records consumed (written or dead-lettered) and how many of them
   * were dead-lettered. { records: 0 } means no traffic: the ratio is unknown.
   */
  readonly deadLettersAndRecords: (
    windowSeconds: number,
  ) => Effect.Effect<{ readonly deadLetters: number; readonly records: number }, AlertInputsUnavailable>
  /** The largest consumer lag over the partitions, in seconds; none before any partition reported. */
  readonly maxLagSeconds: Effect.Effect<Option.Option<number>, AlertInputsUnavailable>
  /** Age of the newest data written (now - its event time), ms; none before the first write. */
  readonly freshnessMs: Effect.Effect<Option.Option<number>, AlertInputsUnavailable>
}

export class AlertInputs extends Context.Tag("rtoa/AlertInputs")<AlertInputs, AlertInputsService>() {}
