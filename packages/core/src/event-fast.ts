import type { Event } from "./event.ts"
import { inEventTimeRange, parseIsoWithOffset } from "./event-time.ts"
import {
  controlCharacters,
  type DecodeLimits,
  nestedDeeperThan,
  utf8LengthExceeds,
  wellFormedDeep,
} from "./json-limits.ts"

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
  if (v === undefined) return "unknown"
  return isText(v, 64) ? v : undefined
}

const eventTime = (v: unknown): number | undefined => {
  const ms =
    typeof v === "number"
      ? Number.isSafeInteger(v)
        ? v
        : undefined
      : typeof v === "string"
        ? parseIsoWithOffset(v)
        : undefined
  return ms !== undefined && inEventTimeRange(ms) ? ms : undefined
}

const isPlainRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" &&
  v !== null &&
  !Array.isArray(v) &&
  Object.getPrototypeOf(v) === Object.prototype &&
  !Object.hasOwn(v, "__proto__")

/** `properties` as the stored JSON text when within the limits; undefined means "ask the Schema". */
const propertiesJson = (v: unknown, limits: DecodeLimits): string | undefined => {
  if (!isPlainRecord(v) || nestedDeeperThan(v, limits.maxPropertiesDepth) || !wellFormedDeep(v))
    return undefined
  const json = JSON.stringify(v)
  return utf8LengthExceeds(json, limits.maxPropertiesBytes) ? undefined : json
}

/** A parsed JSON value as an Event when it is plainly valid; undefined means "ask the Schema". */
export const fastDecodeEvent = (json: unknown, limits: DecodeLimits): Event | undefined => {
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
  const stored = propertiesJson(properties, limits)
  return stored === undefined ? undefined : { ...event, properties: stored }
}
