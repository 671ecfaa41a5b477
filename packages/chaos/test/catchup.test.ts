import { describe, expect, it } from "vitest"
import { groupLag } from "../src/catchup.ts"

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
