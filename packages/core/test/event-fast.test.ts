import { Arbitrary, Either, FastCheck as fc, Schema } from "effect"
import { describe, expect, it } from "vitest"
import { decodeEventWithSchema, Event } from "../src/event.ts"
import { makeFastDecoder } from "../src/event-fast.ts"
import { defaultDecodeLimits } from "../src/json-limits.ts"

/** What the processor sees: a value that went through JSON. */
const viaJson = (v: unknown): unknown => JSON.parse(JSON.stringify(v) ?? "null")

// One decoder for every input, as the processor keeps one per stream: its minute cache is
// exercised across inputs (a cached minute must not let a wrong time through).
const fastDecodeEvent = makeFastDecoder(defaultDecodeLimits)

/** The fast path may decline anything, but what it accepts must be exactly what the Schema gives. */
const agrees = (input: unknown) => {
  const fast = fastDecodeEvent(input)
  if (fast === undefined) return
  const reference = decodeEventWithSchema(input)
  expect(
    Either.isRight(reference),
    `the Schema refuses what the fast path accepted: ${JSON.stringify(input)}`,
  ).toBe(true)
  if (Either.isRight(reference)) expect(fast).toEqual(reference.right)
}

const template = {
  event_id: "e-1",
  user_id: "u-1",
  event_type: "click",
  dimension_channel: "Web",
  event_source: "web-frontend",
  event_time: "2026-11-25T10:00:00.250Z",
  properties: { plan: "pro" },
}
const fields = Object.keys(template)

// Values at and around every rule of the contract, for any field.
const tricky: ReadonlyArray<unknown> = [
  "",
  " x",
  "x ",
  "\tx",
  "x",
  "a".repeat(64),
  "a".repeat(65),
  "a".repeat(128),
  "a".repeat(129),
  null,
  true,
  0,
  -1,
  1.5,
  2 ** 53,
  8_640_000_000_000_000,
  8_640_000_000_000_001,
  1_795_600_800_000,
  "2026-11-25T10:00:00Z",
  "2026-11-25T10:00:00+08:00",
  "2026-11-25T10:00+0800",
  "2026-11-25T10:00:00.123456789Z",
  "2026-11-25T10:00:59.999Z",
  "2026-11-25T10:00:60.000Z",
  "2026-11-25T10:00:5x.000Z",
  "2026-11-25T10:00:05.0x0Z",
  "2026-11-25T10:00:05,000Z",
  "2026-11-25T10:00:05.000z",
  "2026-11-25T10:00:05Z",
  "2026-11-25T10:61:05Z",
  "2026-02-29T10:00:05.000Z",
  "2026-11-25T10:00:00",
  "2026-11-25 10:00:00Z",
  "2026-13-45T10:00:00Z",
  "2026-02-30T10:00:00Z",
  "2028-02-29T10:00:00Z",
  "2026-02-29T10:00:00Z",
  "2016-12-31T23:59:60Z",
  "2026-01-01T24:00:00Z",
  "2026-01-01T23:60:00Z",
  "2026-11-25T10:00:00+24:00",
  "1999-12-31T23:59:59.999Z",
  "2000-01-01T00:00:00Z",
  "2099-12-31T23:59:59.999Z",
  "2100-01-01T00:00:00Z",
  "0050-01-01T00:00:00Z",
  "1733000000000",
  1_733_000_000,
  946_684_799_999,
  946_684_800_000,
  4_102_444_800_000,
  "\ud800",
  "a\udc00b",
  "\ud83d\ude00",
  "x\u0000y",
  "x\u001by",
  "x\u007fy",
  "x\u0085y",
  "x\u202ey",
  "x\u2028y",
  "\ufeffx",
  "é",
  [],
  ["a"],
  {},
  { nested: { a: [1, 2] } },
  JSON.parse('{"__proto__": {"x": 1}}'),
  { lone: "\ud800" },
  { "\udfff": 1 },
  { ctl: "\u0000 is fine in properties" },
  JSON.parse(`${"[".repeat(40)}${"]".repeat(40)}`),
  { deep: JSON.parse(`${"[".repeat(31)}1${"]".repeat(31)}`) },
  { deep: JSON.parse(`${"[".repeat(32)}1${"]".repeat(32)}`) },
  { big: "x".repeat(64 * 1024 - 10) },
  { big: "x".repeat(64 * 1024 - 11) },
  { big: "é".repeat(32 * 1024) },
]

const mutated = fc.record({
  changes: fc.array(
    fc.tuple(
      fc.constantFrom(...fields, "extra"),
      fc.oneof(fc.constantFrom(...tricky), fc.constant(undefined)),
    ),
    { maxLength: 4 },
  ),
})

describe("fast event decoder", () => {
  it("agrees with the Schema on contract-edge inputs (it accepts a subset, with equal results)", () => {
    fc.assert(
      fc.property(mutated, ({ changes }) => {
        const input: Record<string, unknown> = { ...template }
        for (const [field, value] of changes) {
          if (value === undefined) delete input[field]
          else input[field] = value
        }
        agrees(viaJson(input))
      }),
      { numRuns: 5_000 },
    )
  })

  it("agrees with the Schema on arbitrary JSON shaped like the encoded contract", () => {
    const encoded = Arbitrary.make(Schema.encodedSchema(Event))
    fc.assert(
      fc.property(encoded, (input) => agrees(viaJson(input))),
      { numRuns: 3_000 },
    )
    fc.assert(
      fc.property(fc.jsonValue(), (input) => agrees(viaJson(input))),
      { numRuns: 2_000 },
    )
  })

  it("takes every valid event (no silent fallback on the common path)", () => {
    const text = (max: number) => fc.string({ minLength: 1, maxLength: max }).filter((s) => s.trim() === s)
    const isoTime = fc
      .tuple(
        fc.date({
          min: new Date("2000-01-01T00:00:00Z"),
          max: new Date("2099-12-31T23:59:59.999Z"),
          noInvalidDate: true,
        }),
        fc.boolean(),
      )
      .map(([d, utc]) => (utc ? d.toISOString() : d.toISOString().replace("Z", "+00:00")))
    const valid = fc.record(
      {
        event_id: text(128),
        user_id: text(128),
        event_type: text(64),
        dimension_channel: text(64),
        event_source: text(64),
        event_time: fc.oneof(fc.integer({ min: 946_684_800_000, max: 4_102_444_799_999 }), isoTime),
        properties: fc.dictionary(fc.string(), fc.jsonValue({ maxDepth: 8 })),
        unrelated: fc.jsonValue(),
      },
      { requiredKeys: ["event_id", "user_id", "event_time"] },
    )
    fc.assert(
      fc.property(valid, (raw) => {
        const input = viaJson(raw)
        const props = (input as { properties?: object }).properties
        fc.pre(props === undefined || !Object.hasOwn(props, "__proto__"))
        const reference = decodeEventWithSchema(input)
        expect(Either.isRight(reference)).toBe(true)
        expect(fastDecodeEvent(input)).toEqual(Either.getOrThrow(reference))
      }),
      { numRuns: 3_000 },
    )
  })
})
