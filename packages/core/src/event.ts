import { isUtf8 } from "node:buffer"
import { Either, JSONSchema, ParseResult, Schema } from "effect"
import type { DeadLetterReason } from "./dead-letter.ts"
import { makeFastDecoder } from "./event-fast.ts"
import {
  EVENT_TIME_MAX_MS,
  EVENT_TIME_MIN_MS,
  inEventTimeRange,
  isoWithOffset,
  parseIsoWithOffset,
} from "./event-time.ts"
import {
  controlCharacters,
  type DecodeLimits,
  defaultDecodeLimits,
  nestedDeeperThan,
  utf8LengthExceeds,
  wellFormedDeep,
} from "./json-limits.ts"
import {
  DIMENSION_COLUMNS,
  DIMENSION_DEFAULT,
  DIMENSIONS,
  type DimensionColumn,
} from "./schema/dimensions.ts"

/**
 * The event contract on the `events` topic (JSON, key = user_id). docs: packages/core/event.schema.json.
 * event_time is ISO-8601 with an explicit offset, or epoch milliseconds; it decodes to epoch ms.
 * `properties` decodes to the JSON text stored in raw_events.properties.
 *
 * Filters that refuse for a reason of their own (dead-letter.ts) carry it as an annotation, so
 * the reason comes from the contract itself; every other failure is `invalid`.
 */

const ReasonId: unique symbol = Symbol.for("rtoa/DeadLetterReason")
const because = (reason: DeadLetterReason) => ({ [ReasonId]: reason })

const IsoEventTime = Schema.String.pipe(
  Schema.filter((s) => parseIsoWithOffset(s) !== undefined, {
    message: () =>
      "event_time must be ISO-8601 with an offset and real date and time values (e.g. 2026-11-25T10:00:00Z) or epoch milliseconds",
    jsonSchema: { format: "date-time", pattern: isoWithOffset.source },
  }),
)

const EpochMillis = Schema.Number.pipe(
  Schema.int({ message: () => "event_time as a number must be whole epoch milliseconds" }),
  Schema.nonNegative({ message: () => "event_time as a number must not be negative" }),
)

const rangeText = `${new Date(EVENT_TIME_MIN_MS).toISOString()} to ${new Date(EVENT_TIME_MAX_MS).toISOString()}`

/** Decodes either form to epoch milliseconds in the sane range; encodes back to ISO (UTC). */
export const EventTime = Schema.transform(Schema.Union(IsoEventTime, EpochMillis), Schema.Number, {
  strict: true,
  decode: (v) => (typeof v === "number" ? v : (parseIsoWithOffset(v) ?? Number.NaN)),
  encode: (ms) => new Date(ms).toISOString(),
}).pipe(
  Schema.filter(inEventTimeRange, {
    message: (issue) =>
      `event_time ${typeof issue.actual === "number" ? new Date(issue.actual).toISOString() : ""} is outside ${rangeText} (epoch seconds instead of milliseconds?)`,
    ...because("event_time_out_of_range"),
  }),
)

const Text = (field: string, max: number, description: string) =>
  Schema.String.pipe(
    Schema.filter((s) => s.isWellFormed(), {
      message: () => `${field} is not valid Unicode (lone UTF-16 surrogate)`,
      ...because("invalid_encoding"),
    }),
    Schema.filter((s) => !controlCharacters.test(s), {
      message: () => `${field} must not contain control or bidirectional-override characters`,
      jsonSchema: { pattern: `^[^${controlCharacters.source.slice(1, -1)}]*$` },
      ...because("control_characters"),
    }),
    Schema.trimmed({ message: () => `${field} must not have leading or trailing spaces` }),
    Schema.minLength(1, { message: () => `${field} must not be empty` }),
    Schema.maxLength(max, { message: () => `${field} must be at most ${max} characters` }),
    Schema.annotations({ title: field, description }),
  )

const Dimension = (field: string, description: string) =>
  Schema.optionalWith(Text(field, 64, `${description} Defaults to "${DIMENSION_DEFAULT}".`), {
    default: () => DIMENSION_DEFAULT,
    exact: true,
  })

/** One optional text field per dimension (schema/dimensions.ts), in the list's order. */
const dimensionFields = Object.fromEntries(
  DIMENSIONS.map((d) => [d.column, Dimension(d.column, d.description)]),
) as { readonly [C in DimensionColumn]: ReturnType<typeof Dimension> }

/** Free-form attributes within the limits, decoded to the JSON text that raw_events stores. */
const Properties = (limits: DecodeLimits) =>
  Schema.transform(
    Schema.Record({ key: Schema.String, value: Schema.Unknown })
      .annotations({
        title: "properties",
        description: `Free-form attributes (an object; at most ${limits.maxPropertiesDepth} levels deep and ${limits.maxPropertiesBytes} bytes as JSON), stored as JSON in raw_events.properties.`,
      })
      .pipe(
        Schema.filter((p) => !nestedDeeperThan(p, limits.maxPropertiesDepth), {
          message: () => `properties nest deeper than ${limits.maxPropertiesDepth} levels`,
          ...because("too_deep"),
        }),
        Schema.filter(wellFormedDeep, {
          message: () => "properties hold a string that is not valid Unicode (lone UTF-16 surrogate)",
          ...because("invalid_encoding"),
        }),
      ),
    Schema.String,
    {
      strict: true,
      decode: (p) => JSON.stringify(p),
      encode: (s) => JSON.parse(s) as Record<string, unknown>,
    },
  ).pipe(
    Schema.filter((json) => !utf8LengthExceeds(json, limits.maxPropertiesBytes), {
      message: () => `properties are larger than ${limits.maxPropertiesBytes} bytes as JSON`,
      ...because("properties_too_large"),
    }),
  )

const makeEventSchema = (limits: DecodeLimits) =>
  Schema.Struct({
    event_id: Text("event_id", 128, "Unique per event; a resend with the same event_id is counted once."),
    user_id: Text("user_id", 128, "The acting user; also the Kafka message key."),
    ...dimensionFields,
    event_time: EventTime.annotations({
      title: "event_time",
      description: `When it happened: ISO-8601 with an offset, or epoch milliseconds; from ${rangeText}.`,
    }),
    properties: Schema.optionalWith(Properties(limits), { exact: true }),
  }).annotations({ title: "Event", description: "One JSON message on the events topic (key = user_id)." })

/** The contract with the default limits (documentation, tests, tools). */
export const Event = makeEventSchema(defaultDecodeLimits)
export type Event = typeof Event.Type
export type EventInput = typeof Event.Encoded

/**
 * The contract as JSON Schema (packages/core/event.schema.json is generated from this; a test
 * keeps them equal). Unknown fields are ignored by the decoder, so they are allowed here too.
 */
export const eventJsonSchema = (): Record<string, unknown> => ({
  ...JSONSchema.make(Event),
  additionalProperties: true,
})

/** Why a message is not an event, with each offending field named in `detail`. */
export interface EventDecodeFailure {
  readonly reason: Exclude<DeadLetterReason, "event_time_in_future" | "rejected_by_clickhouse">
  readonly detail: string
}

/** The reason of the first problem found (in field order); `invalid` unless the contract names one. */
const reasonOf = (issue: ParseResult.ParseIssue): DeadLetterReason | undefined => {
  switch (issue._tag) {
    case "Refinement":
      return issue.kind === "Predicate"
        ? (issue.ast.annotations[ReasonId] as DeadLetterReason | undefined)
        : reasonOf(issue.issue)
    case "Composite":
      return reasonOf(
        (Array.isArray(issue.issues) ? issue.issues[0] : issue.issues) as ParseResult.ParseIssue,
      )
    case "Pointer":
    case "Transformation":
      return reasonOf(issue.issue)
    default:
      return undefined
  }
}

const fields = ["event_id", "user_id", ...DIMENSION_COLUMNS, "event_time"]

/**
 * A value that nests deeper than the limits where the contract looks (the record itself when it
 * is not an object, the known fields otherwise) is refused before the Schema sees it: its error
 * formatter prints the offending value recursively and would overflow the stack.
 */
const tooDeep = (json: unknown, limits: DecodeLimits): boolean => {
  if (typeof json !== "object" || json === null || Array.isArray(json))
    return nestedDeeperThan(json, limits.maxPropertiesDepth)
  const record = json as Record<string, unknown>
  return (
    fields.some((f) => nestedDeeperThan(record[f], limits.maxPropertiesDepth)) ||
    nestedDeeperThan(record.properties, limits.maxPropertiesDepth)
  )
}

/** Decodes parsed JSON against the contract: the reference the fast path must agree with. */
const makeReferenceDecoder = (limits: DecodeLimits) => {
  const decode = Schema.decodeUnknownEither(makeEventSchema(limits), { errors: "all" })
  return (json: unknown): Either.Either<Event, EventDecodeFailure> => {
    if (tooDeep(json, limits))
      return Either.left({
        reason: "too_deep",
        detail: `JSON nests deeper than ${limits.maxPropertiesDepth} levels`,
      })
    try {
      return Either.mapLeft(decode(json), (error) => ({
        reason: (reasonOf(error.issue) ?? "invalid") as EventDecodeFailure["reason"],
        detail: ParseResult.ArrayFormatter.formatErrorSync(error)
          .map((i) => (i.path.length > 0 ? `${i.path.join(".")}: ${i.message}` : i.message))
          .join("; "),
      }))
    } catch (e) {
      // Defence in depth: no input may escape as an exception and stop the pipeline.
      return Either.left({ reason: "invalid", detail: `could not be checked: ${(e as Error).message}` })
    }
  }
}

/** The default-limits reference decoder (tests). */
export const decodeEventWithSchema = makeReferenceDecoder(defaultDecodeLimits)

const UTF8_BOM = 0xfeff

/**
 * Decodes one message value, bytes first: null/empty, size, UTF-8, JSON, then the contract (the
 * fast path for plainly valid events, the Schema for everything else and for the messages).
 */
export const makeMessageDecoder = (limits: DecodeLimits = defaultDecodeLimits) => {
  const reference = makeReferenceDecoder(limits)
  const fastDecode = makeFastDecoder(limits)
  return (value: Buffer | null): Either.Either<Event, EventDecodeFailure> => {
    if (value === null) return Either.left({ reason: "empty", detail: "tombstone (null value)" })
    if (value.length === 0) return Either.left({ reason: "empty", detail: "empty value" })
    if (value.length > limits.maxMessageBytes)
      return Either.left({
        reason: "message_too_large",
        detail: `${value.length} bytes, more than the ${limits.maxMessageBytes}-byte limit`,
      })
    if (!isUtf8(value)) return Either.left({ reason: "invalid_encoding", detail: "not valid UTF-8" })
    let text = value.toString("utf8")
    // A leading byte-order mark is accepted (some Windows tools write one) and dropped.
    if (text.charCodeAt(0) === UTF8_BOM) text = text.slice(1)
    let json: unknown
    try {
      json = JSON.parse(text)
    } catch (e) {
      return Either.left({ reason: "undecodable", detail: `not JSON: ${(e as Error).message}` })
    }
    const fast = fastDecode(json)
    return fast !== undefined ? Either.right(fast) : reference(json)
  }
}

/** Decodes with the default limits (tools and tests; the processor builds its own from config). */
export const decodeMessage = makeMessageDecoder()

/** Decodes a JSON text with the default limits. */
export const decodeEvent = (text: string) => decodeMessage(Buffer.from(text, "utf8"))
