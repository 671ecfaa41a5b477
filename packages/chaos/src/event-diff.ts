import { type OffsetRange, type Position, toRanges } from "./positions.ts"

/** Events on one side of the comparison only, and where they sit in the events topic. */
export interface EventSet {
  /** Distinct event_ids. */
  readonly count: number
  /** Their positions: in the events topic (missing ones), or raw_events' kafka_* columns (extra ones). */
  readonly ranges: ReadonlyArray<OffsetRange>
  /** Missing event_ids not in the events topic at all: acknowledged by the broker, then lost. */
  readonly unlocated: number
  /** A few event_ids, to look up by hand. */
  readonly sample: ReadonlyArray<string>
}

export interface EventDiff {
  readonly missing: EventSet
  readonly extra: EventSet
}

const eventSet = (
  ids: ReadonlyArray<string>,
  positionsOf: ReadonlyMap<string, ReadonlyArray<Position>>,
): EventSet => {
  const positions: Array<Position> = []
  let unlocated = 0
  for (const id of ids) {
    const at = positionsOf.get(id)
    if (at === undefined || at.length === 0) unlocated += 1
    else positions.push(...at)
  }
  return { count: ids.length, ranges: toRanges(positions), unlocated, sample: ids.slice(0, 10) }
}

/**
 * Which acknowledged valid events raw_events lacks (located in the topic, every position of each,
 * since a duplicate sits at several), and which stored events the producer never acknowledged.
 */
export const diffEvents = (
  expectedIds: ReadonlySet<string>,
  topicPositions: ReadonlyMap<string, ReadonlyArray<Position>>,
  stored: ReadonlyMap<string, ReadonlyArray<Position>>,
): EventDiff => {
  const missing = [...expectedIds].filter((id) => !stored.has(id)).sort()
  const extra = [...stored.keys()].filter((id) => !expectedIds.has(id)).sort()
  return { missing: eventSet(missing, topicPositions), extra: eventSet(extra, stored) }
}
