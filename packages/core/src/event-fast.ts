import type { Event } from "./event.ts"

/**
 * The hot path of the decode stage. Profiling (`make bench`) put about half of the processor's
 * CPU in the generic Schema decoder, which builds an issue tree for every field even when the
 * message is fine. This checks the common, fully valid shape with plain code and returns the
 * same Event the Schema would; for anything else it returns undefined and the caller falls back
 * to the Schema decoder, which also writes the error messages. It may only accept a subset of
 * what the Schema accepts: the agreement test (event-fast.test.ts) checks exactly that.
 */

/** event_time as text: ISO-8601 with an explicit offset (the Schema in event.ts uses it too). */
export const isoWithOffset = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})$/
/** The largest time a JavaScript Date holds (year 275760). */
export const MAX_EPOCH_MS = 8_640_000_000_000_000

const isText = (v: unknown, max: number): v is string =>
  typeof v === "string" && v.length >= 1 && v.length <= max && v.trim() === v

const dimension = (v: unknown): string | undefined => {
  if (v === undefined) return "unknown"
  return isText(v, 64) ? v : undefined
}

const eventTime = (v: unknown): number | undefined => {
  if (typeof v === "number") return Number.isSafeInteger(v) && v >= 0 && v <= MAX_EPOCH_MS ? v : undefined
  if (typeof v !== "string" || !isoWithOffset.test(v)) return undefined
  const ms = Date.parse(v)
  return Number.isNaN(ms) ? undefined : ms
}

const isPlainRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" &&
  v !== null &&
  !Array.isArray(v) &&
  Object.getPrototypeOf(v) === Object.prototype &&
  !Object.hasOwn(v, "__proto__")

/** A parsed JSON value as an Event when it is plainly valid; undefined means "ask the Schema". */
export const fastDecodeEvent = (json: unknown): Event | undefined => {
  if (!isPlainRecord(json)) return undefined
  const { event_id, user_id, properties } = json
  if (!isText(event_id, 128) || !isText(user_id, 128)) return undefined
  const event_type = dimension(json.event_type)
  const dimension_channel = dimension(json.dimension_channel)
  const event_source = dimension(json.event_source)
  const event_time = eventTime(json.event_time)
  if (
    event_type === undefined ||
    dimension_channel === undefined ||
    event_source === undefined ||
    event_time === undefined
  )
    return undefined
  const event = { event_id, user_id, event_type, dimension_channel, event_source, event_time }
  if (properties === undefined) return event
  return isPlainRecord(properties) ? { ...event, properties } : undefined
}
