import { describe, expect, it } from "@effect/vitest"
import { Either } from "effect"
import {
  outsideMessage,
  type PartitionOffsets,
  planReplay,
  retentionSuspects,
  retentionWarnings,
} from "../src/plan.ts"

const T = Date.UTC(2026, 10, 25, 10)
const range = { fromMs: T, toMs: T + 3_600_000 }
const p = (partition: number, low: number, high: number, from: number, to: number): PartitionOffsets => ({
  partition,
  low: BigInt(low),
  high: BigInt(high),
  fromOffset: BigInt(from),
  toOffset: BigInt(to),
})
const plan = (...partitions: Array<PartitionOffsets>) => planReplay({ topic: "events", partitions }, range)

describe("replay plan", () => {
  it("reads [offset for FROM, offset for TO) per partition, sorted, with totals", () => {
    const result = Either.getOrThrow(plan(p(1, 0, 500, 100, 300), p(0, 0, 400, 50, 400), p(2, 0, 0, 0, 0)))
    expect(result.partitions.map((x) => [x.partition, x.start, x.end, x.records])).toEqual([
      [0, 50n, 400n, 350],
      [1, 100n, 300n, 200],
      [2, 0n, 0n, 0],
    ])
    expect(result.total).toBe(550)
  })

  it("clamps lookups that raced with retention or new records into [low, high]", () => {
    const result = Either.getOrThrow(plan(p(0, 100, 200, 40, 260)))
    expect([result.partitions[0]?.start, result.partitions[0]?.end]).toEqual([100n, 200n])
  })

  it("a range in a gap between records is an empty plan, not an error", () => {
    const result = Either.getOrThrow(plan(p(0, 0, 100, 60, 60), p(1, 0, 100, 70, 70)))
    expect(result.total).toBe(0)
  })

  it("a range ending before the oldest retained record is BeforeRetention, peeking at each low", () => {
    const outside = plan(p(0, 120, 300, 120, 120), p(1, 80, 90, 80, 80), p(2, 5, 5, 5, 5))
    expect(Either.isLeft(outside) && outside.left).toEqual({
      reason: "BeforeRetention",
      peek: [
        { partition: 0, offset: 120n },
        { partition: 1, offset: 80n },
      ],
    })
  })

  it("a range starting after the newest record is AfterEnd, peeking at each last record", () => {
    const outside = plan(p(0, 0, 300, 300, 300), p(1, 10, 90, 90, 90))
    expect(Either.isLeft(outside) && outside.left).toEqual({
      reason: "AfterEnd",
      peek: [
        { partition: 0, offset: 299n },
        { partition: 1, offset: 89n },
      ],
    })
  })

  it("a topic with no records is EmptyTopic, whatever the range", () => {
    const outside = plan(p(0, 7, 7, 7, 7), p(1, 0, 0, 0, 0))
    expect(Either.isLeft(outside) && outside.left.reason).toBe("EmptyTopic")
  })

  it("messages name the range, the topic and the oldest/newest record, and that nothing changed", () => {
    const stamps = [
      { partition: 0, offset: 120n, timestamp: T + 7_200_000 },
      { partition: 1, offset: 80n, timestamp: T + 5_400_000 },
    ]
    const before = outsideMessage({ reason: "BeforeRetention", peek: [] }, "events", range, stamps)
    expect(before).toMatch(
      /^nothing to reprocess, nothing was changed: the range ends \(--to 2026-11-25T11:00:00.000Z\)/,
    )
    expect(before).toMatch(
      /oldest record still in topic events \(2026-11-25T11:30:00.000Z, partition 1 offset 80\)/,
    )
    expect(before).toMatch(/rebuild-metrics/)
    const after = outsideMessage({ reason: "AfterEnd", peek: [] }, "events", range, stamps)
    expect(after).toMatch(
      /starts \(--from 2026-11-25T10:00:00.000Z\) after the newest record .*12:00:00.000Z, partition 0 offset 120/,
    )
    expect(outsideMessage({ reason: "AfterEnd", peek: [] }, "events", range, [])).toMatch(
      /newest record in topic events$/,
    )
  })

  it("warns when a replay starts at a retained low that is younger than FROM", () => {
    const result = Either.getOrThrow(
      plan(p(0, 100, 300, 100, 250), p(1, 0, 300, 0, 250), p(2, 50, 300, 80, 250)),
    )
    expect(retentionSuspects(result)).toEqual([{ partition: 0, offset: 100n }])
    expect(retentionWarnings(range, [{ partition: 0, offset: 100n, timestamp: T + 60_000 }])).toEqual([
      expect.stringMatching(
        /^warning: partition 0: the range starts before its oldest retained record \(2026-11-25T10:01:00.000Z, offset 100\); older records were deleted by retention/,
      ),
    ])
    expect(retentionWarnings(range, [{ partition: 0, offset: 100n, timestamp: T - 1 }])).toEqual([])
  })
})
