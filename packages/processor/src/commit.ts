import type { SourceRecord, TopicPartitionOffset } from "./model.ts"

/**
 * Commit stage input: for each topic-partition in a batch, the offset after the highest one
 * processed. Committed only after the sink acknowledged the whole batch.
 */
export const offsetsToCommit = (records: Iterable<SourceRecord>): ReadonlyArray<TopicPartitionOffset> => {
  const highest = new Map<string, { topic: string; partition: number; offset: bigint }>()
  for (const r of records) {
    const key = `${r.topic}\u0000${r.partition}`
    const offset = BigInt(r.offset)
    const seen = highest.get(key)
    if (seen === undefined || offset > seen.offset)
      highest.set(key, { topic: r.topic, partition: r.partition, offset })
  }
  return Array.from(highest.values(), (h) => ({
    topic: h.topic,
    partition: h.partition,
    offset: (h.offset + 1n).toString(),
  }))
}

/** Human-readable offset ranges, e.g. `events:0:100-199,events:1:5-42`, for spans and logs. */
export const offsetRanges = (records: Iterable<SourceRecord>): string => {
  const ranges = new Map<string, { low: bigint; high: bigint }>()
  for (const r of records) {
    const key = `${r.topic}:${r.partition}`
    const offset = BigInt(r.offset)
    const range = ranges.get(key)
    if (range === undefined) ranges.set(key, { low: offset, high: offset })
    else {
      if (offset < range.low) range.low = offset
      if (offset > range.high) range.high = offset
    }
  }
  return Array.from(ranges, ([k, r]) => `${k}:${r.low}-${r.high}`).join(",")
}
