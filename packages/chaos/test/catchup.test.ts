import { describe, expect, it } from "vitest"
import { groupLag, stallWatch } from "../src/catchup.ts"

describe("catch-up", () => {
  it("measures the group's lag from committed and end offsets", () => {
    expect(groupLag([])).toBeUndefined()
    expect(
      groupLag([
        { partition: 0, committed: 10, end: 10 },
        { partition: 1, committed: -1, end: 5 },
        { partition: 2, committed: 7, end: 9 },
      ]),
    ).toBe(7)
  })
})

describe("stall watch", () => {
  it("waits as long as the work left shrinks, and gives up once it stops", () => {
    const giveUp = stallWatch(10_000, 60_000, 0)
    expect(giveUp(100, 0)).toBeUndefined()
    expect(giveUp(90, 9_000)).toBeUndefined()
    expect(giveUp(50, 18_000)).toBeUndefined()
    // Unknown (a failed query) and unchanged are not progress.
    expect(giveUp(Number.NaN, 25_000)).toBeUndefined()
    expect(giveUp(50, 28_000)).toBe("no progress for 10 s")
  })

  it("gives up after the cap even while moving", () => {
    const giveUp = stallWatch(10_000, 30_000, 0)
    for (let t = 0, left = 100; t < 30_000; t += 5_000, left -= 1) expect(giveUp(left, t)).toBeUndefined()
    expect(giveUp(1, 30_000)).toBe("not done after 30 s")
  })
})
