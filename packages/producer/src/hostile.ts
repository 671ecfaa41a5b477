import type { DeadLetterReason } from "@rtoa/core"

/**
 * A corpus of hostile records: what other clients and careless producers really send (null and
 * empty values, headers-only records, byte-order marks, bad UTF-8, lone surrogates, control
 * characters, huge and deep values, duplicate keys, numbers as strings, odd time forms). Each
 * case says what the processor must do with it: store it once, or dead-letter it with a reason.
 * The hostile-input suite sends it with kcat (librdkafka) and with this producer; the poison mix
 * of the generator draws refused cases from it.
 */
export interface HostileCase {
  readonly name: string
  readonly key: string | null
  readonly value: Buffer | null
  readonly headers?: Readonly<Record<string, string>>
  /** `stored` (then `eventId` lands in raw_events once) or the dead-letter reason. */
  readonly expect: DeadLetterReason | "stored"
  readonly eventId?: string
}

const utf8 = (text: string) => Buffer.from(text, "utf8")
const nested = (depth: number, leaf: string) => `${"[".repeat(depth)}${leaf}${"]".repeat(depth)}`
const deepObject = (depth: number) => `${'{"a":'.repeat(depth)}1${"}".repeat(depth)}`

/** The corpus for one run: `prefix` makes the event ids unique, `nowMs` is the send time. */
export const hostileCorpus = (prefix: string, nowMs: number): ReadonlyArray<HostileCase> => {
  const now = new Date(nowMs).toISOString()
  const base = (id: string) => ({
    event_id: `${prefix}-${id}`,
    user_id: `${prefix}-user`,
    dimension_channel: "Web",
    event_source: "hostile-suite",
    event_type: "probe",
    event_time: now,
  })
  const json = (id: string, overrides: Record<string, unknown> = {}) =>
    JSON.stringify({ ...base(id), ...overrides })
  // Text edits on the JSON itself, for what JSON.stringify cannot write (escapes, duplicates).
  const edited = (id: string, edit: (text: string) => string) => utf8(edit(json(id)))
  const stored = (name: string, value: Buffer, extra: Partial<HostileCase> = {}): HostileCase => ({
    name,
    key: `${prefix}-user`,
    value,
    expect: "stored",
    eventId: `${prefix}-${name}`,
    ...extra,
  })
  const refused = (
    name: string,
    expect: DeadLetterReason,
    value: Buffer | null,
    extra: Partial<HostileCase> = {},
  ): HostileCase => ({ name, key: `${prefix}-user`, value, expect, ...extra })

  return [
    stored("plain", utf8(json("plain"))),
    stored("bom", Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), utf8(json("bom"))])),
    stored(
      "duplicate_keys",
      edited("duplicate_keys", (t) => t.replace('"event_id":', '"event_id":"first-wins-not","event_id":')),
    ),
    stored("nul_in_properties", utf8(json("nul_in_properties", { properties: { note: "a\u0000b" } }))),
    stored("unicode", utf8(json("unicode", { dimension_channel: "行動 📱", properties: { 名稱: "值" } }))),
    stored(
      "surrogate_pair_escaped",
      edited("surrogate_pair_escaped", (t) => t.replace('"probe"', '"\\ud83d\\ude00"')),
    ),
    stored("html_in_user_id", utf8(json("html_in_user_id", { user_id: "<script>alert(1)</script>" }))),
    stored("epoch_millis", utf8(json("epoch_millis", { event_time: nowMs }))),
    stored("offset_time", utf8(json("offset_time", { event_time: now.replace("Z", "+00:00") }))),
    stored("leap_day", utf8(json("leap_day", { event_time: "2024-02-29T12:00:00+05:45" }))),
    stored(
      "properties_at_depth_limit",
      utf8(json("properties_at_depth_limit", { properties: JSON.parse(deepObject(31)) })),
    ),
    stored("binary_key_and_headers", utf8(json("binary_key_and_headers")), {
      key: "\u00ff\u00fe-ключ",
      headers: { "content-type": "application/json", "x-trace": "\u001b[31mred" },
    }),
    refused("tombstone", "empty", null),
    refused("empty_value", "empty", Buffer.alloc(0)),
    refused("headers_only", "empty", null, { headers: { "x-only": "headers" } }),
    refused("not_json", "undecodable", utf8("this is not JSON")),
    refused("truncated_json", "undecodable", utf8(json("truncated_json").slice(0, 40))),
    refused("json_array", "invalid", utf8("[1,2,3]")),
    refused("json_string", "invalid", utf8('"hello"')),
    refused("empty_object", "invalid", utf8("{}")),
    refused(
      "missing_event_time",
      "invalid",
      utf8(JSON.stringify({ ...base("missing_event_time"), event_time: undefined })),
    ),
    refused("event_id_number", "invalid", utf8(json("event_id_number", { event_id: 12345 }))),
    refused("event_time_number_as_string", "invalid", utf8(json("x", { event_time: String(nowMs) }))),
    refused(
      "bad_utf8",
      "invalid_encoding",
      Buffer.concat([utf8(json("bad_utf8")).subarray(0, 20), Buffer.from([0xc3, 0x28, 0xff])]),
    ),
    refused(
      "lone_surrogate_dimension",
      "invalid_encoding",
      edited("lone_surrogate_dimension", (t) => t.replace('"Web"', '"\\ud800"')),
    ),
    refused(
      "lone_surrogate_property_key",
      "invalid_encoding",
      edited("lone_surrogate_property_key", (t) => t.replace(/}$/, ',"properties":{"\\udc00":1}}')),
    ),
    refused(
      "nul_in_event_id",
      "control_characters",
      utf8(json("nul_in_event_id", { event_id: `${prefix}-a\u0000b` })),
    ),
    refused(
      "escape_in_user_id",
      "control_characters",
      utf8(json("escape_in_user_id", { user_id: "\u001b[2J\u001b[31mboom" })),
    ),
    refused(
      "bidi_override_dimension",
      "control_characters",
      utf8(json("bidi_override_dimension", { dimension_channel: "Web\u202eevil" })),
    ),
    refused(
      "properties_5000_deep",
      "too_deep",
      edited("properties_5000_deep", (t) => t.replace(/}$/, `,"properties":${deepObject(5_000)}}`)),
    ),
    refused(
      "event_id_20000_deep",
      "too_deep",
      edited("event_id_20000_deep", (t) =>
        t.replace(`"${prefix}-event_id_20000_deep"`, nested(20_000, '"x"')),
      ),
    ),
    refused(
      "properties_too_large",
      "properties_too_large",
      utf8(json("properties_too_large", { properties: { pad: "p".repeat(100 * 1024) } })),
    ),
    refused(
      "message_too_large",
      "message_too_large",
      utf8(json("message_too_large", { properties: { pad: "m".repeat(300 * 1024) } })),
    ),
    refused(
      "epoch_seconds",
      "event_time_out_of_range",
      utf8(json("epoch_seconds", { event_time: Math.floor(nowMs / 1_000) })),
    ),
    refused(
      "year_1999",
      "event_time_out_of_range",
      utf8(json("year_1999", { event_time: "1999-12-31T23:59:59Z" })),
    ),
    refused("leap_second", "invalid", utf8(json("leap_second", { event_time: "2016-12-31T23:59:60Z" }))),
    refused("february_30", "invalid", utf8(json("february_30", { event_time: "2026-02-30T10:00:00Z" }))),
    refused("hour_24", "invalid", utf8(json("hour_24", { event_time: "2026-01-01T24:00:00Z" }))),
    refused("no_offset", "invalid", utf8(json("no_offset", { event_time: now.slice(0, 19) }))),
    refused(
      "far_future",
      "event_time_in_future",
      utf8(json("far_future", { event_time: "2099-06-01T00:00:00Z" })),
    ),
  ]
}

/**
 * The refused cases small enough to mix into live traffic (the poison mix), and refused whatever
 * the clock says (event_time_in_future depends on when the processor reads the record).
 */
export const poisonCases = (prefix: string, nowMs: number): readonly [HostileCase, ...Array<HostileCase>] => {
  const [first, ...rest] = hostileCorpus(prefix, nowMs).filter(
    (c) =>
      c.expect !== "stored" && c.expect !== "event_time_in_future" && (c.value?.length ?? 0) <= 64 * 1024,
  )
  if (first === undefined) throw new Error("the hostile corpus has no poison cases")
  return [first, ...rest]
}
