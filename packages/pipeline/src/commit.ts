import type { SourceRecord, TopicPartitionOffset } from "./model.ts"

/**
 * Orders two Kafka offsets given as decimal strings (no sign, no leading zeros) without BigInt:
 * a longer string is a larger number. This runs once per record, so it is kept cheap.
 */
export const compareOffsets = (a: string, b: string): number =>
  a.length !== b.length ? a.length - b.length : a < b ? -1 : a > b ? 1 : 0

interface Bounds {
  low: SourceRecord
  high: SourceRecord
}

/** Per "topic:partition", the records with the lowest and the highest offset in `records`. */
export const partitionBounds = (records: Iterable<SourceRecord>): PartitionBounds => {
  // Keyed by topic, then partition: no key string built per record.
  const byTopic = new Map<string, Map<number, Bounds>>()
  for (const r of records) {
    let partitions = byTopic.get(r.topic)
    if (partitions === undefined) {
      partitions = new Map()
      byTopic.set(r.topic, partitions)
    }
    const seen = partitions.get(r.partition)
    if (seen === undefined) partitions.set(r.partition, { low: r, high: r })
    else if (compareOffsets(r.offset, seen.high.offset) > 0) seen.high = r
    else if (compareOffsets(r.offset, seen.low.offset) < 0) seen.low = r
  }
  return new Map(
    [...byTopic].flatMap(([topic, partitions]) =>
      [...partitions].map(([partition, b]): [string, Bounds] => [`${topic}:${partition}`, b]),
    ),
  )
}

export type PartitionBounds = ReadonlyMap<string, Bounds>

/**
 * Commit stage input: for each topic-partition in a batch, the offset after the highest one
 * processed. Committed only after the sink acknowledged the whole batch.
 */
export const offsetsToCommit = (bounds: PartitionBounds): ReadonlyArray<TopicPartitionOffset> =>
  Array.from(bounds.values(), ({ high }) => ({
    topic: high.topic,
    partition: high.partition,
    offset: (BigInt(high.offset) + 1n).toString(),
  }))

/** Human-readable offset ranges, e.g. `events:0:100-199,events:1:5-42`, for spans and logs. */
export const offsetRanges = (bounds: PartitionBounds): string =>
  Array.from(bounds, ([k, b]) => `${k}:${b.low.offset}-${b.high.offset}`).join(",")

/** Records behind the high watermark, per partition, after the batch's last record. */
export const lagByPartition = (bounds: PartitionBounds): ReadonlyMap<number, number> =>
  new Map(
    Array.from(bounds.values(), ({ high }): [number, number] => [
      high.partition,
      Math.max(0, Number(BigInt(high.highWatermark) - BigInt(high.offset) - 1n)),
    ]),
  )
