import { Data } from "effect"

/**
 * What can go wrong in a reprocess or a rebuild, each with a message that says what to do.
 * Every one of them is raised before anything is written, except ReplayStalled and the
 * ClickHouse/Kafka errors from core, after which a rerun is safe (all writes are idempotent).
 */

/** A --from/--to value that is neither ISO-8601 with an offset nor epoch milliseconds. */
export class InvalidTime extends Data.TaggedError("InvalidTime")<{
  readonly option: string
  readonly value: string
  readonly message: string
}> {}

/** FROM is not before TO. */
export class InvalidRange extends Data.TaggedError("InvalidRange")<{ readonly message: string }> {}

/** The range holds none of the topic's records: before its retention, after its end, or no topic. */
export class RangeOutsideTopic extends Data.TaggedError("RangeOutsideTopic")<{
  readonly reason: "BeforeRetention" | "AfterEnd" | "EmptyTopic" | "UnknownTopic"
  readonly message: string
}> {}

/** The embedded store is held by another process (in local mode: the live processor). */
export class StoreLocked extends Data.TaggedError("StoreLocked")<{ readonly message: string }> {}

/** The replay consumer stopped making progress before reaching the end offsets. */
export class ReplayStalled extends Data.TaggedError("ReplayStalled")<{ readonly message: string }> {}

/** raw_events has nothing in the range: a rebuild would only erase metrics. */
export class NothingToRebuild extends Data.TaggedError("NothingToRebuild")<{ readonly message: string }> {}

/** Another rebuild's staging table exists (a rebuild is running against the same server). */
export class RebuildInProgress extends Data.TaggedError("RebuildInProgress")<{ readonly message: string }> {}
