import { FastCheck as fc } from "effect"
import { describe, expect, it } from "vitest"
import {
  clickhouseTime,
  clickhouseTimeFormatter,
  compareOffsets,
  decodeRecords,
  groupByMinute,
  offsetRanges,
  offsetsToCommit,
  partitionBounds,
  sourceRecord,
  toSinkBatch,
} from "../src/index.ts"
import { eventJson, T0 } from "./fixtures.ts"

const decodeAll = (values: ReadonlyArray<string>, now = T0 + 60_000) =>
  decodeRecords(
    values.map((v, i) => sourceRecord(0, i, v)),
    now,
    300_000,
  )

describe("decode stage", () => {
  it("accepts ISO-8601 with an offset and epoch milliseconds, to the same instant", () => {
    const { events, deadLetters } = decodeAll([
      eventJson(1, { event_time: "2026-11-25T18:00:01+08:00" }),
      eventJson(2, { event_time: Date.parse("2026-11-25T10:00:01Z") }),
    ])
    expect(deadLetters).toEqual([])
    expect(events.map((e) => e.event.event_time)).toEqual([
      Date.parse("2026-11-25T10:00:01Z"),
      Date.parse("2026-11-25T10:00:01Z"),
    ])
  })

  it("defaults missing dimensions to 'unknown' and keeps properties", () => {
    const { events } = decodeAll([
      JSON.stringify({ event_id: "a", user_id: "u", event_time: T0, properties: { path: "/" } }),
    ])
    expect(events[0]?.event).toMatchObject({
      dimension_channel: "unknown",
      event_source: "unknown",
      event_type: "unknown",
    })
    expect(events[0]?.event.properties).toEqual(JSON.stringify({ path: "/" }))
  })

  it("names the offending fields of an invalid event", () => {
    const { deadLetters } = decodeAll([JSON.stringify({ event_id: 5, event_time: "2026-11-25 10:00:00" })])
    expect(deadLetters[0]?.reason).toBe("invalid")
    expect(deadLetters[0]?.detail).toMatch(/event_id/)
    expect(deadLetters[0]?.detail).toMatch(/user_id/)
    expect(deadLetters[0]?.detail).toMatch(/event_time/)
  })

  it("accepts late events and refuses events beyond the clock skew", () => {
    const { events, deadLetters } = decodeAll([
      eventJson(1, { event_time: new Date(T0 - 86_400_000).toISOString() }),
      eventJson(2, { event_time: new Date(T0 + 60_000 + 299_000).toISOString() }),
      eventJson(3, { event_time: new Date(T0 + 60_000 + 301_000).toISOString() }),
    ])
    expect(events.map((e) => e.event.event_id)).toEqual(["e-1", "e-2"])
    expect(deadLetters.map((l) => l.reason)).toEqual(["event_time_in_future"])
  })
})

describe("window stage", () => {
  it("groups by event-time minute and dimensions with distinct users and event ids", () => {
    const minute = T0
    const values = [
      eventJson(1, { user_id: "a", event_time: minute + 1_000 }),
      eventJson(2, { user_id: "a", event_time: minute + 59_999 }),
      eventJson(2, { user_id: "a", event_time: minute + 59_999 }),
      eventJson(3, { user_id: "b", event_time: minute + 60_000 }),
      eventJson(4, { user_id: "c", event_time: minute + 2_000, dimension_channel: "Web" }),
    ].map((v, i) => sourceRecord(0, i, v))
    const { events } = decodeRecords(values, T0 + 120_000, 0)
    const groups = groupByMinute(events).map((g) => ({
      window: g.time_window,
      channel: g.dimension_channel,
      users: [...g.user_ids].sort(),
      ids: [...g.event_ids].sort(),
    }))
    expect(groups).toEqual([
      { window: "2026-11-25 10:00:00", channel: "Mobile", users: ["a"], ids: ["e-1"] },
      { window: "2026-11-25 10:00:00", channel: "Web", users: ["a", "c"], ids: ["e-2", "e-4"] },
      { window: "2026-11-25 10:01:00", channel: "Mobile", users: ["b"], ids: ["e-3"] },
    ])
  })

  it("renders raw rows with ClickHouse times and source positions", () => {
    const { events } = decodeRecords([sourceRecord(2, 41, eventJson(7))], T0 + 60_000, 0)
    const batch = toSinkBatch(events)
    expect(batch.rows[0]).toMatchObject({
      event_id: "e-7",
      event_time: "2026-11-25 10:00:07.000",
      kafka_partition: 2,
      kafka_offset: "41",
      properties: "{}",
    })
    expect(clickhouseTime(Date.parse("2026-01-02T03:04:05.678Z"))).toBe("2026-01-02 03:04:05.678")
  })

  it("formats times per minute exactly as clickhouseTime does, in any order", () => {
    const times = fc.array(
      fc.oneof(
        fc.integer({ min: 0, max: 4_102_444_800_000 }),
        fc.integer({ min: T0 - 120_000, max: T0 + 120_000 }),
      ),
      { maxLength: 200 },
    )
    fc.assert(
      fc.property(times, (ms) => {
        const format = clickhouseTimeFormatter()
        expect(ms.map(format)).toEqual(ms.map(clickhouseTime))
      }),
      { numRuns: 500 },
    )
  })
})

describe("commit stage", () => {
  it("commits the offset after the highest processed one, per partition, 64-bit safe", () => {
    const rs = [
      sourceRecord(0, 5, "x"),
      sourceRecord(1, 9, "x"),
      sourceRecord(0, 7, "x"),
      { ...sourceRecord(2, 0, "x"), offset: "9007199254740993" },
    ]
    expect(offsetsToCommit(partitionBounds(rs))).toEqual([
      { topic: "events", partition: 0, offset: "8" },
      { topic: "events", partition: 1, offset: "10" },
      { topic: "events", partition: 2, offset: "9007199254740994" },
    ])
    expect(offsetRanges(partitionBounds(rs))).toBe(
      "events:0:5-7,events:1:9-9,events:2:9007199254740993-9007199254740993",
    )
  })

  it("orders offsets like BigInt does, and commits max + 1 per partition in any record order", () => {
    const offset = fc.bigInt({ min: 0n, max: 2n ** 63n - 1n })
    fc.assert(
      fc.property(offset, offset, (a, b) => {
        const expected = a < b ? -1 : a > b ? 1 : 0
        expect(Math.sign(compareOffsets(a.toString(), b.toString()))).toBe(expected)
      }),
    )
    const batch = fc.array(fc.tuple(fc.integer({ min: 0, max: 3 }), offset), { minLength: 1, maxLength: 50 })
    fc.assert(
      fc.property(batch, (pairs) => {
        const rs = pairs.map(([p, o]) => ({ ...sourceRecord(p, 0, "x"), offset: o.toString() }))
        const max = new Map<number, bigint>()
        for (const [p, o] of pairs) if ((max.get(p) ?? -1n) < o) max.set(p, o)
        const got = new Map(offsetsToCommit(partitionBounds(rs)).map((c) => [c.partition, c.offset]))
        expect(got).toEqual(new Map([...max].map(([p, o]) => [p, (o + 1n).toString()])))
      }),
    )
  })
})
