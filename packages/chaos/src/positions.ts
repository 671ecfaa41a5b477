/** A record's place in a topic. */
export interface Position {
  readonly partition: number
  readonly offset: number
}

/** Consecutive offsets of one partition: `from`..`to` inclusive. */
export interface OffsetRange {
  readonly partition: number
  readonly from: number
  readonly to: number
  readonly count: number
}

/** `partition:offset`, the key dead letters and topic reads are matched on. */
export const positionKey = (p: Position): string => `${p.partition}:${p.offset}`

export const parsePositionKey = (key: string): Position | undefined => {
  const m = /^(\d+):(\d+)$/.exec(key)
  return m === null ? undefined : { partition: Number(m[1]), offset: Number(m[2]) }
}

/**
 * Positions folded into runs of consecutive offsets per partition, sorted: a lost batch shows as
 * one range, scattered losses as many. Duplicate positions count once.
 */
export const toRanges = (positions: Iterable<Position>): Array<OffsetRange> => {
  const byPartition = new Map<number, Set<number>>()
  for (const p of positions) {
    let offsets = byPartition.get(p.partition)
    if (offsets === undefined) {
      offsets = new Set()
      byPartition.set(p.partition, offsets)
    }
    offsets.add(p.offset)
  }
  const ranges: Array<OffsetRange> = []
  for (const partition of [...byPartition.keys()].sort((a, b) => a - b)) {
    const offsets = [...(byPartition.get(partition) ?? [])].sort((a, b) => a - b)
    let from: number | undefined
    let to = 0
    for (const o of offsets) {
      if (from !== undefined && o === to + 1) {
        to = o
        continue
      }
      if (from !== undefined) ranges.push({ partition, from, to, count: to - from + 1 })
      from = o
      to = o
    }
    if (from !== undefined) ranges.push({ partition, from, to, count: to - from + 1 })
  }
  return ranges
}

/** `1:1200-1299 (100)`, `2:7`; at most `max` ranges, then how many more. */
export const formatRanges = (ranges: ReadonlyArray<OffsetRange>, max = 12): string => {
  if (ranges.length === 0) return "none"
  const shown = ranges
    .slice(0, max)
    .map((r) =>
      r.count === 1 ? `${r.partition}:${r.from}` : `${r.partition}:${r.from}-${r.to} (${r.count})`,
    )
  const more = ranges.length > max ? `, ... ${ranges.length - max} more range(s)` : ""
  return `${shown.join(", ")}${more}`
}
