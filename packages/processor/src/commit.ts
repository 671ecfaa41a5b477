import type { SourceRecord, TopicPartitionOffset } from "./model.ts"

/**
 * Orders two Kafka offsets given as decimal strings (no sign, no leading zeros) without BigInt:
 * a longer string is a larger number. This runs once per record, so it is kept cheap.
 */
export const compareOffsets = (a: string, b: string): number =>
  a.length !== b.length ? a.length - b.length : a < b ? -1 : a > b ? 1 : 0

/** Per topic-partition, the record with the lowest and with the highest offset in `records`. */
export const partitionBounds = (records: Iterable<SourceRecord>) => {
  const bounds = new Map<string, { low: SourceRecord; high: SourceRecord }>()
  let topic = ""
  let byPartition = new Map<number, { low: SourceRecord; high: SourceRecord }>()
  const perTopic = new Map<string, Map<number, { low: SourceRecord; high: SourceRecord }>>()
  for (const r of records) {
    if (r.topic !== topic) {
      topic = r.topic
      byPartition = perTopic.get(topic) ?? new Map()
      perTopic.set(topic, byPartition)
    }
    const seen = byPartition.get(r.partition)
    if (seen === undefined) byPartition.set(r.partition, { low: r, high: r })
    else if (compareOffsets(r.offset, seen.high.offset) > 0) seen.high = r
    else if (compareOffsets(r.offset, seen.low.offset) < 0) seen.low = r
  }
  for (const [t, partitions] of perTopic) for (const [p, b] of partitions) bounds.set(`${t}:${p}`, b)
  return bounds
}

/**
 * Commit stage input: for each topic-partition in a batch, the offset after the highest one
 * processed. Committed only after the sink acknowledged the whole batch.
 */
export const offsetsToCommit = (records: Iterable<SourceRecord>): ReadonlyArray<TopicPartitionOffset> =>
  Array.from(partitionBounds(records).values(), ({ high }) => ({
    topic: high.topic,
    partition: high.partition,
    offset: (BigInt(high.offset) + 1n).toString(),
  }))

/** Human-readable offset ranges, e.g. `events:0:100-199,events:1:5-42`, for spans and logs. */
export const offsetRanges = (records: Iterable<SourceRecord>): string =>
  Array.from(partitionBounds(records), ([k, b]) => `${k}:${b.low.offset}-${b.high.offset}`).join(",")
