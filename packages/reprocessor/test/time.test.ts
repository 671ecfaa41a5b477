import { describe, expect, it } from "@effect/vitest"
import { Either } from "effect"
import { minuteRange, monthPartitions, parseRange, parseTime } from "../src/time.ts"

const ok = (value: string) => Either.getOrThrow(parseTime("--from", value))
const why = (value: string | undefined) =>
  Either.match(parseTime("--from", value), { onLeft: (e) => e.message, onRight: (ms) => `parsed ${ms}` })

describe("time arguments", () => {
  it("reads ISO-8601 with an offset, to the millisecond", () => {
    expect(ok("2026-11-25T10:00:00Z")).toBe(Date.UTC(2026, 10, 25, 10))
    expect(ok("2026-11-25T18:00:00+08:00")).toBe(Date.UTC(2026, 10, 25, 10))
    expect(ok("2026-11-25T05:30:00-0430")).toBe(Date.UTC(2026, 10, 25, 10))
    expect(ok("2026-11-25T10:00Z")).toBe(Date.UTC(2026, 10, 25, 10))
    expect(ok("2026-11-25T10:00:00.25Z")).toBe(Date.UTC(2026, 10, 25, 10, 0, 0, 250))
    expect(ok("2026-11-25T10:00:00.123456789Z")).toBe(Date.UTC(2026, 10, 25, 10, 0, 0, 123))
  })

  it("reads epoch milliseconds", () => {
    expect(ok("1795600800000")).toBe(1_795_600_800_000)
  })

  it("refuses what it cannot read, naming the option and the accepted forms", () => {
    expect(why(undefined)).toMatch(
      /--from "": missing; expected ISO-8601 with an offset .* or epoch milliseconds/,
    )
    expect(why("yesterday")).toMatch(/cannot be read as a time/)
    expect(why("2026-11-25 10:00:00Z")).toMatch(/cannot be read as a time/)
    expect(why("2026-11-25T10:00:00")).toMatch(/no UTC offset; add Z/)
    expect(why("2026-02-30T00:00:00Z")).toMatch(/day 30 does not exist in 2026-02/)
    expect(why("2026-13-01T00:00:00Z")).toMatch(/month 13 does not exist/)
    expect(why("2026-11-25T24:00:00Z")).toMatch(/not a time of day/)
    expect(why("2026-11-25T10:00:00+25:00")).toMatch(/offset .* is not valid/)
    expect(why("1795600800")).toMatch(/looks like epoch seconds; .*1795600800000/)
    expect(why("-5")).toMatch(/cannot be read/)
  })

  it("accepts a leap day only in a leap year", () => {
    expect(ok("2028-02-29T00:00:00Z")).toBe(Date.UTC(2028, 1, 29))
    expect(why("2026-02-29T00:00:00Z")).toMatch(/does not exist/)
  })
})

describe("range validation", () => {
  it("gives [from, to) when FROM is before TO", () => {
    expect(Either.getOrThrow(parseRange("2026-11-25T10:00:00Z", "1795604400000"))).toEqual({
      fromMs: Date.UTC(2026, 10, 25, 10),
      toMs: Date.UTC(2026, 10, 25, 11),
    })
  })

  it("refuses FROM after TO, and an empty range, with both instants in UTC", () => {
    const after = parseRange("2026-11-25T11:00:00Z", "2026-11-25T18:00:00+08:00")
    expect(Either.isLeft(after) && after.left._tag).toBe("InvalidRange")
    expect(Either.isLeft(after) && after.left.message).toBe(
      "--from (2026-11-25T11:00:00.000Z) is after --to (2026-11-25T10:00:00.000Z): FROM must be before TO",
    )
    const empty = parseRange("2026-11-25T10:00:00Z", "2026-11-25T18:00:00+08:00")
    expect(Either.isLeft(empty) && empty.left.message).toMatch(/same instant .* is empty/)
  })

  it("reports the first unreadable option", () => {
    const bad = parseRange("2026-11-25T10:00:00Z", "soon")
    expect(Either.isLeft(bad) && bad.left._tag).toBe("InvalidTime")
    expect(Either.isLeft(bad) && bad.left.message).toMatch(/^--to "soon"/)
  })
})

describe("minutes and partitions of a rebuild", () => {
  it("widens a range to whole minutes", () => {
    const m = minuteRange({
      fromMs: Date.UTC(2026, 10, 25, 10, 0, 30),
      toMs: Date.UTC(2026, 10, 25, 10, 2, 0, 1),
    })
    expect(m).toEqual({ fromMs: Date.UTC(2026, 10, 25, 10, 0), toMs: Date.UTC(2026, 10, 25, 10, 3) })
    const aligned = { fromMs: Date.UTC(2026, 10, 25, 10), toMs: Date.UTC(2026, 10, 25, 11) }
    expect(minuteRange(aligned)).toEqual(aligned)
  })

  it("lists the toYYYYMM partitions a range touches (TO exclusive)", () => {
    expect(monthPartitions({ fromMs: Date.UTC(2026, 10, 1), toMs: Date.UTC(2026, 11, 1) })).toEqual([
      "202611",
    ])
    expect(monthPartitions({ fromMs: Date.UTC(2026, 10, 30, 23), toMs: Date.UTC(2027, 1, 1, 0, 1) })).toEqual(
      ["202611", "202612", "202701", "202702"],
    )
  })
})
