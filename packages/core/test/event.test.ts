import { Either } from "effect"
import { describe, expect, it } from "vitest"
import { decodeEvent } from "../src/event.ts"

const valid = {
  event_id: "e-1",
  user_id: "u-1",
  event_type: "click",
  dimension_channel: "Web",
  event_source: "web-frontend",
  event_time: "2026-11-25T10:00:00.250Z",
}

describe("event contract", () => {
  it("decodes a valid event with event_time as epoch milliseconds", () => {
    const decoded = decodeEvent(JSON.stringify(valid))
    expect(Either.getOrThrow(decoded).event_time).toBe(Date.parse("2026-11-25T10:00:00.250Z"))
  })

  it.each<[string | number, string]>([
    ["2026-11-25T10:00:00", "no offset"],
    ["2026-11-25 10:00:00Z", "space separator"],
    ["yesterday", "not a time"],
    [1.5, "fractional millis"],
    [-1, "negative"],
  ])("refuses event_time %j (%s)", (event_time, _why) => {
    const decoded = decodeEvent(JSON.stringify({ ...valid, event_time }))
    expect(Either.isLeft(decoded) && decoded.left.reason === "invalid" && decoded.left.detail).toMatch(
      /event_time/,
    )
  })

  it("tells undecodable bytes from contract violations", () => {
    const bad = decodeEvent("{oops")
    expect(Either.isLeft(bad) && bad.left.reason).toBe("undecodable")
    const missing = decodeEvent(JSON.stringify({ event_time: 1 }))
    expect(Either.isLeft(missing) && missing.left).toMatchObject({ reason: "invalid" })
    expect(Either.isLeft(missing) && missing.left.detail).toMatch(/event_id.*user_id|user_id.*event_id/s)
  })

  it("refuses empty or padded identifiers", () => {
    expect(Either.isLeft(decodeEvent(JSON.stringify({ ...valid, user_id: "" })))).toBe(true)
    expect(Either.isLeft(decodeEvent(JSON.stringify({ ...valid, event_id: " e-1" })))).toBe(true)
  })
})

describe("event.schema.json", () => {
  it("is the JSON Schema of the decoder's contract (regenerate with pnpm --filter @rtoa/core gen:schema)", async () => {
    const fs = await import("node:fs")
    const { eventJsonSchema } = await import("../src/event.ts")
    const file = JSON.parse(fs.readFileSync(new URL("../event.schema.json", import.meta.url), "utf8"))
    expect(file).toEqual(eventJsonSchema())
    expect(file.required).toEqual(["event_id", "user_id", "event_time"])
  })
})
