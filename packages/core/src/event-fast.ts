import type { Event } from "./event.ts"
import { inEventTimeRange, parseIsoWithOffset } from "./event-time.ts"
import { controlCharacters, type DecodeLimits, utf8LengthExceeds } from "./json-limits.ts"
import { compileOverDimensions, DIMENSION_DEFAULT } from "./schema/dimensions.ts"

/**
 * The hot path of the decode stage. Profiling (`make bench`) put about half of the processor's
 * CPU in the generic Schema decoder, which builds an issue tree for every field even when the
 * message is fine. This checks the common, fully valid shape with plain code and returns the
 * same Event the Schema would; for anything else it returns undefined and the caller falls back
 * to the Schema decoder, which also writes the error messages. It may only accept a subset of
 * what the Schema accepts: the agreement test (event-fast.test.ts) checks exactly that.
 */

const isText = (v: unknown, max: number): v is string =>
  typeof v === "string" &&
  v.length >= 1 &&
  v.length <= max &&
  v.trim() === v &&
  v.isWellFormed() &&
  !controlCharacters.test(v)

const dimension = (v: unknown): string | undefined => {
  if (v === undefined) return DIMENSION_DEFAULT
  return isText(v, 64) ? v : undefined
}

/**
 * The event of a plainly valid message's fields, dimensions and stored properties, or undefined when a dimension is
 * not plainly valid. Compiled from the dimension list (one object literal, each dimension read by
 * name), so the hot path stays as hand-written code would be.
 */
const withDimensions = compileOverDimensions<
  (
    dimension: (v: unknown) => string | undefined,
  ) => (
    json: Record<string, unknown>,
    event_id: string,
    user_id: string,
    event_time: number,
    properties: string | undefined,
  ) => Event | undefined
>(
  ["dimension"],
  (cs) => `return (json, event_id, user_id, event_time, properties) => {
    ${cs.map((c, i) => `const d${i} = dimension(json.${c}); if (d${i} === undefined) return undefined;`).join("\n    ")}
    return properties === undefined
      ? { event_id, user_id, ${cs.map((c, i) => `${c}: d${i}`).join(", ")}, event_time }
      : { event_id, user_id, ${cs.map((c, i) => `${c}: d${i}`).join(", ")}, event_time, properties }
  }`,
)(dimension)

const isPlainRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" &&
  v !== null &&
  !Array.isArray(v) &&
  Object.getPrototypeOf(v) === Object.prototype &&
  !Object.hasOwn(v, "__proto__")

/**
 * `properties` within the depth limit with only well-formed strings and keys: one walk, no
 * allocation (the same rules as json-limits.ts's nestedDeeperThan and wellFormedDeep).
 */
const propertiesOk = (v: unknown, depth: number, max: number): boolean => {
  if (typeof v === "string") return v.isWellFormed()
  if (typeof v !== "object" || v === null) return true
  if (depth + 1 > max) return false
  if (Array.isArray(v)) {
    for (const item of v) if (!propertiesOk(item, depth + 1, max)) return false
    return true
  }
  for (const key in v)
    if (!key.isWellFormed() || !propertiesOk((v as Record<string, unknown>)[key], depth + 1, max))
      return false
  return true
}

const digit = (s: string, i: number) => s.charCodeAt(i) - 48
const twoDigits = (s: string, i: number) => {
  const a = digit(s, i)
  const b = digit(s, i + 1)
  return a >= 0 && a <= 9 && b >= 0 && b <= 9 ? a * 10 + b : -1
}

/**
 * A decoder for one stream of messages. Most event times in a batch share their minute: the
 * common form `YYYY-MM-DDTHH:MM:SS[.sss]Z` reuses the last minute it validated (the full parse
 * costs a microsecond per event); every other form takes parseIsoWithOffset.
 */
export const makeFastDecoder = (limits: DecodeLimits) => {
  let minutePrefix = ""
  let minuteMs = 0
  const isoTime = (s: string): number | undefined => {
    const len = s.length
    if (
      (len === 20 || len === 24) &&
      s.charCodeAt(len - 1) === 90 /* Z */ &&
      s.charCodeAt(16) === 58 /* : */
    ) {
      const prefix = s.slice(0, 16)
      if (prefix !== minutePrefix) {
        const ms = parseIsoWithOffset(`${prefix}:00Z`)
        if (ms === undefined) return undefined
        minutePrefix = prefix
        minuteMs = ms
      }
      const seconds = twoDigits(s, 17)
      if (seconds < 0 || seconds > 59) return undefined
      if (len === 20) return minuteMs + seconds * 1_000
      const millis = twoDigits(s, 20) * 10 + digit(s, 22)
      if (s.charCodeAt(19) !== 46 /* . */ || twoDigits(s, 20) < 0 || digit(s, 22) < 0 || digit(s, 22) > 9)
        return undefined
      return minuteMs + seconds * 1_000 + millis
    }
    return parseIsoWithOffset(s)
  }
  const eventTime = (v: unknown): number | undefined => {
    const ms =
      typeof v === "number"
        ? Number.isSafeInteger(v)
          ? v
          : undefined
        : typeof v === "string"
          ? isoTime(v)
          : undefined
    return ms !== undefined && inEventTimeRange(ms) ? ms : undefined
  }
  /** `properties` as the stored JSON text when within the limits; undefined means "ask the Schema". */
  const propertiesJson = (v: unknown): string | undefined => {
    if (!isPlainRecord(v) || !propertiesOk(v, 0, limits.maxPropertiesDepth)) return undefined
    const json = JSON.stringify(v)
    return utf8LengthExceeds(json, limits.maxPropertiesBytes) ? undefined : json
  }
  /** A parsed JSON value as an Event when it is plainly valid; undefined means "ask the Schema". */
  return (json: unknown): Event | undefined => {
    if (!isPlainRecord(json)) return undefined
    const { event_id, user_id, properties } = json
    if (!isText(event_id, 128) || !isText(user_id, 128)) return undefined
    const event_time = eventTime(json.event_time)
    if (event_time === undefined) return undefined
    // The stored properties go into the one event object (no second copy of it per event).
    if (properties === undefined) return withDimensions(json, event_id, user_id, event_time, undefined)
    const stored = propertiesJson(properties)
    return stored === undefined ? undefined : withDimensions(json, event_id, user_id, event_time, stored)
  }
}

/** One message with a fresh decoder (tests; the processor keeps one decoder per stream). */
export const fastDecodeEvent = (json: unknown, limits: DecodeLimits): Event | undefined =>
  makeFastDecoder(limits)(json)
