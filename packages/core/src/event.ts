import { Either, JSONSchema, ParseResult, Schema } from "effect"
import { fastDecodeEvent, isoWithOffset, MAX_EPOCH_MS } from "./event-fast.ts"

/**
 * The event contract on the `events` topic (JSON, key = user_id). docs: db/event.schema.json.
 * event_time is ISO-8601 with an explicit offset, or epoch milliseconds; it decodes to epoch ms.
 */

const IsoEventTime = Schema.String.pipe(
  Schema.filter((s) => isoWithOffset.test(s) && !Number.isNaN(Date.parse(s)), {
    message: () =>
      "event_time must be ISO-8601 with an offset (e.g. 2026-11-25T10:00:00Z) or epoch milliseconds",
    jsonSchema: { format: "date-time", pattern: isoWithOffset.source },
  }),
)

const EpochMillis = Schema.Number.pipe(
  Schema.int({ message: () => "event_time as a number must be whole epoch milliseconds" }),
  Schema.between(0, MAX_EPOCH_MS, { message: () => "event_time is out of range" }),
)

/** Decodes either form to epoch milliseconds; encodes back to ISO (UTC). */
export const EventTime = Schema.transform(Schema.Union(IsoEventTime, EpochMillis), Schema.Number, {
  strict: true,
  decode: (v) => (typeof v === "number" ? v : Date.parse(v)),
  encode: (ms) => new Date(ms).toISOString(),
})

const Text = (field: string, max: number, description: string) =>
  Schema.String.pipe(
    Schema.trimmed({ message: () => `${field} must not have leading or trailing spaces` }),
    Schema.minLength(1, { message: () => `${field} must not be empty` }),
    Schema.maxLength(max, { message: () => `${field} must be at most ${max} characters` }),
    Schema.annotations({ title: field, description }),
  )

const Dimension = (field: string, description: string) =>
  Schema.optionalWith(Text(field, 64, `${description} Defaults to "unknown".`), {
    default: () => "unknown",
    exact: true,
  })

export const Event = Schema.Struct({
  event_id: Text("event_id", 128, "Unique per event; a resend with the same event_id is counted once."),
  user_id: Text("user_id", 128, "The acting user; also the Kafka message key."),
  event_type: Dimension("event_type", "What happened, e.g. page_view, click, purchase."),
  dimension_channel: Dimension("dimension_channel", "Channel, e.g. Web, Mobile, API, Partner."),
  event_source: Dimension("event_source", "Emitting system, e.g. web-frontend, ios-app."),
  event_time: EventTime.annotations({
    title: "event_time",
    description: "When it happened: ISO-8601 with an offset, or epoch milliseconds.",
  }),
  properties: Schema.optionalWith(
    Schema.Record({ key: Schema.String, value: Schema.Unknown }).annotations({
      title: "properties",
      description: "Free-form attributes, stored as JSON in raw_events.properties.",
    }),
    { exact: true },
  ),
}).annotations({ title: "Event", description: "One JSON message on the events topic (key = user_id)." })

export type Event = typeof Event.Type

/**
 * The contract as JSON Schema (packages/core/event.schema.json is generated from this; a test
 * keeps them equal). Unknown fields are ignored by the decoder, so they are allowed here too.
 */
export const eventJsonSchema = (): Record<string, unknown> => ({
  ...JSONSchema.make(Event),
  additionalProperties: true,
})
export type EventInput = typeof Event.Encoded

/** The contract's own decoder: the reference for the fast path, and the source of error messages. */
export const decodeEventWithSchema = Schema.decodeUnknownEither(Event, { errors: "all" })

/** Why a message is not an event: not JSON at all, or JSON that breaks the contract. */
export interface EventDecodeFailure {
  readonly reason: "undecodable" | "invalid"
  readonly detail: string
}

/** Decode one message value. Left names each bad field, or says the bytes are not JSON. */
export const decodeEvent = (value: string): Either.Either<Event, EventDecodeFailure> => {
  let json: unknown
  try {
    json = JSON.parse(value)
  } catch (e) {
    return Either.left({ reason: "undecodable", detail: `not JSON: ${(e as Error).message}` })
  }
  const fast = fastDecodeEvent(json)
  if (fast !== undefined) return Either.right(fast)
  return Either.mapLeft(decodeEventWithSchema(json), (error) => ({
    reason: "invalid",
    detail: ParseResult.ArrayFormatter.formatErrorSync(error)
      .map((issue) => (issue.path.length > 0 ? `${issue.path.join(".")}: ${issue.message}` : issue.message))
      .join("; "),
  }))
}
