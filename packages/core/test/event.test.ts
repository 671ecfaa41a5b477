import { Either } from "effect"
import { describe, expect, it } from "vitest"
import { decodeEvent, decodeMessage } from "../src/event.ts"

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

describe("hostile messages: each refusal has its own reason and nothing throws", () => {
  const raw = (text: string) => decodeMessage(Buffer.from(text, "utf8"))
  const reason = (decoded: ReturnType<typeof decodeMessage>) =>
    Either.isLeft(decoded) ? decoded.left.reason : "accepted"
  const deep = (depth: number, leaf = "1") => `${"[".repeat(depth)}${leaf}${"]".repeat(depth)}`

  it("refuses a lone UTF-16 surrogate in a dimension (ClickHouse would refuse the whole insert)", () => {
    const text = JSON.stringify(valid).replace('"Web"', '"\\ud800"')
    expect(text).toContain("\\ud800")
    expect(reason(raw(text))).toBe("invalid_encoding")
    // In properties too, keys included; a surrogate pair written as escapes is fine.
    expect(reason(raw(JSON.stringify({ ...valid, properties: { "\ud800": 1 } })))).toBe("invalid_encoding")
    expect(reason(raw(JSON.stringify({ ...valid, properties: { p: "\ud83d\ude00" } })))).toBe("accepted")
  })

  it("refuses properties nested 5,000 deep (30 KB) without overflowing the stack", () => {
    const text = JSON.stringify(valid).replace(
      /}$/,
      `,"properties":${'{"a":'.repeat(5_000)}1${"}".repeat(5_000)}}`,
    )
    expect(text.length).toBeGreaterThan(30_000)
    expect(reason(raw(text))).toBe("too_deep")
  })

  it("refuses an event_id nested 20,000 deep without overflowing the stack", () => {
    const text = JSON.stringify(valid).replace('"e-1"', deep(20_000, '"e"'))
    expect(reason(raw(text))).toBe("too_deep")
    expect(reason(raw(deep(20_000)))).toBe("too_deep")
  })

  it("refuses bytes that are not UTF-8, null and empty values, and oversize messages", () => {
    expect(reason(decodeMessage(Buffer.from([0x7b, 0xff, 0xfe, 0x7d])))).toBe("invalid_encoding")
    expect(reason(decodeMessage(null))).toBe("empty")
    expect(reason(decodeMessage(Buffer.alloc(0)))).toBe("empty")
    const big = JSON.stringify({ ...valid, properties: { pad: "x".repeat(300 * 1024) } })
    expect(reason(raw(big))).toBe("message_too_large")
    const large = JSON.stringify({ ...valid, properties: { pad: "x".repeat(100 * 1024) } })
    expect(reason(raw(large))).toBe("properties_too_large")
  })

  it("refuses control and bidirectional-override characters in identifiers, not in properties", () => {
    for (const bad of ["a\u0000b", "a\u001bb", "a\u007fb", "a\u0085b", "a\u202eb", "a\u2028b"])
      expect(reason(raw(JSON.stringify({ ...valid, user_id: bad }))), JSON.stringify(bad)).toBe(
        "control_characters",
      )
    expect(reason(raw(JSON.stringify({ ...valid, properties: { note: "a\u0000b" } })))).toBe("accepted")
  })

  it("checks event_time strictly and within 2000..2100", () => {
    const at = (event_time: unknown) => reason(raw(JSON.stringify({ ...valid, event_time })))
    expect(at("2026-02-30T10:00:00Z")).toBe("invalid")
    expect(at("2016-12-31T23:59:60Z")).toBe("invalid")
    expect(at("2026-01-01T24:00:00Z")).toBe("invalid")
    expect(at("1733000000000")).toBe("invalid")
    expect(at(1_733_000_000)).toBe("event_time_out_of_range")
    expect(at("1999-12-31T23:59:59Z")).toBe("event_time_out_of_range")
    expect(at("2100-01-01T00:00:00Z")).toBe("event_time_out_of_range")
    expect(at("2028-02-29T10:00:00+08:00")).toBe("accepted")
  })

  it("takes a leading byte-order mark and, for duplicate keys, the last value (as JSON.parse does)", () => {
    expect(reason(raw(`\ufeff${JSON.stringify(valid)}`))).toBe("accepted")
    const dup = raw(JSON.stringify(valid).replace('"user_id":"u-1"', '"user_id":"u-1","user_id":"u-2"'))
    expect(Either.getOrThrow(dup).user_id).toBe("u-2")
  })
})
