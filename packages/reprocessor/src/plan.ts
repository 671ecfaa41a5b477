import { Either } from "effect"
import { formatTime, type TimeRange } from "./time.ts"

/**
 * Planning a replay, as pure functions over what the broker said. Offsets come from record
 * timestamps (offsets-for-times): per partition, `fromOffset` is the first offset whose timestamp
 * is >= FROM and `toOffset` the first whose timestamp is >= TO (the high watermark when none is).
 * The replay reads [fromOffset, toOffset). With timestamps that are not monotonic within a
 * partition a few records just outside the range can be included; that is harmless, since every
 * write is idempotent, and it is why the records read are not filtered again by time.
 */

/** What the broker reports for one partition. */
export interface PartitionOffsets {
  readonly partition: number
  /** Earliest offset still in the log (retention moves it forward). */
  readonly low: bigint
  /** High watermark: the next offset to be written. */
  readonly high: bigint
  readonly fromOffset: bigint
  readonly toOffset: bigint
}

export interface TopicSnapshot {
  readonly topic: string
  readonly partitions: ReadonlyArray<PartitionOffsets>
}

/** The offsets one partition's replay reads: [start, end). */
export interface PartitionPlan {
  readonly partition: number
  readonly start: bigint
  readonly end: bigint
  readonly records: number
  readonly low: bigint
  readonly high: bigint
}

export interface ReplayPlan {
  readonly topic: string
  readonly range: TimeRange
  readonly partitions: ReadonlyArray<PartitionPlan>
  /** Records to read (end - start summed; exact for a topic without compaction or transactions). */
  readonly total: number
}

/** One offset to look at, to name a timestamp in a message. */
export interface Position {
  readonly partition: number
  readonly offset: bigint
}

/** Why a range holds none of the topic's records, and which records' timestamps would say more. */
export interface Outside {
  readonly reason: "BeforeRetention" | "AfterEnd" | "EmptyTopic"
  readonly peek: ReadonlyArray<Position>
}

const isEmpty = (p: PartitionOffsets) => p.high <= p.low

/**
 * The replay plan, or why there is nothing to replay: the range ends before the oldest record
 * still in the topic (retention), starts after its newest record, or the topic holds nothing.
 * A range that falls in a gap between records is not an error: its plan reads zero records.
 */
export const planReplay = (snapshot: TopicSnapshot, range: TimeRange): Either.Either<ReplayPlan, Outside> => {
  const partitions = [...snapshot.partitions]
    .sort((a, b) => a.partition - b.partition)
    .map((p): PartitionPlan => {
      // Clamp into [low, high]: a lookup can race with retention or with new records.
      const clamp = (o: bigint, min: bigint) => (o < min ? min : o > p.high ? p.high : o)
      const start = clamp(p.fromOffset, p.low)
      const end = clamp(p.toOffset, start)
      return { partition: p.partition, start, end, records: Number(end - start), low: p.low, high: p.high }
    })
  const total = partitions.reduce((n, p) => n + p.records, 0)
  const filled = snapshot.partitions.filter((p) => !isEmpty(p))
  if (filled.length === 0) return Either.left({ reason: "EmptyTopic", peek: [] })
  if (total === 0) {
    if (filled.every((p) => p.toOffset <= p.low))
      return Either.left({
        reason: "BeforeRetention",
        peek: filled.map((p) => ({ partition: p.partition, offset: p.low })),
      })
    if (filled.every((p) => p.fromOffset >= p.high))
      return Either.left({
        reason: "AfterEnd",
        peek: filled.map((p) => ({ partition: p.partition, offset: p.high - 1n })),
      })
  }
  return Either.right({ topic: snapshot.topic, range, partitions, total })
}

/**
 * Partitions whose replay starts at the oldest retained record although older records existed
 * (low > 0): the range may reach back into data that retention already deleted.
 */
export const retentionSuspects = (plan: ReplayPlan): ReadonlyArray<Position> =>
  plan.partitions
    .filter((p) => p.records > 0 && p.start === p.low && p.low > 0n)
    .map((p) => ({ partition: p.partition, offset: p.low }))

export interface Stamped extends Position {
  readonly timestamp: number
}

const describe = (s: Stamped | undefined) =>
  s === undefined ? "" : ` (${formatTime(s.timestamp)}, partition ${s.partition} offset ${s.offset})`

/** The error text for a range outside the topic; `stamps` are the peeked records' timestamps. */
export const outsideMessage = (
  outside: Outside,
  topic: string,
  range: TimeRange,
  stamps: ReadonlyArray<Stamped>,
): string => {
  const nothing = "nothing to reprocess, nothing was changed"
  switch (outside.reason) {
    case "EmptyTopic":
      return `${nothing}: topic ${topic} holds no records`
    case "BeforeRetention": {
      const oldest = [...stamps].sort((a, b) => a.timestamp - b.timestamp)[0]
      return (
        `${nothing}: the range ends (--to ${formatTime(range.toMs)}) before the oldest record still in topic ${topic}${describe(oldest)}. ` +
        "Older records were deleted by the topic's retention or never existed. To recompute the metrics of that time from raw_events, use `rtoa rebuild-metrics` with the same range."
      )
    }
    case "AfterEnd": {
      const newest = [...stamps].sort((a, b) => b.timestamp - a.timestamp)[0]
      return `${nothing}: the range starts (--from ${formatTime(range.fromMs)}) after the newest record in topic ${topic}${describe(newest)}`
    }
  }
}

/** Warnings for suspects whose oldest retained record is younger than FROM. */
export const retentionWarnings = (range: TimeRange, stamps: ReadonlyArray<Stamped>): ReadonlyArray<string> =>
  stamps
    .filter((s) => s.timestamp > range.fromMs)
    .map(
      (s) =>
        `warning: partition ${s.partition}: the range starts before its oldest retained record (${formatTime(s.timestamp)}, offset ${s.offset}); ` +
        "older records were deleted by retention, so any of them inside the range cannot be replayed (`rtoa rebuild-metrics` recomputes those minutes from raw_events)",
    )
