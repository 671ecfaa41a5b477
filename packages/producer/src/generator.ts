import type { EventInput } from "@rtoa/core"
import { type HostileCase, poisonCases } from "./hostile.ts"
import { intBetween, mulberry32, pickOne, type Random, zipf } from "./random.ts"
import { pickChannel, pickEventType, pickSource, propertiesFor } from "./traffic.ts"

/**
 * Deterministic traffic: for a seed and the same sequence of send times, the same messages. Valid
 * events follow core's contract; duplicates re-send an earlier valid message byte for byte (same
 * event_id, new position); malformed messages break the contract in one of several ways.
 */

export type MessageKind = "valid" | "duplicate" | "malformed"

export type MalformedKind =
  | "invalid_json"
  | "missing_event_id"
  | "bad_event_time"
  | "user_id_not_string"
  | "empty_object"
  /** A hostile record from the corpus (hostile.ts): bad bytes, surrogates, depth, odd times. */
  | "poison"

export interface GeneratedMessage {
  /** Kafka key: the user_id, or null when the message has no usable one. */
  readonly key: string | null
  /** JSON text; bytes or null (a tombstone) for poison records. */
  readonly value: string | Buffer | null
  readonly headers?: Readonly<Record<string, string>>
  readonly kind: MessageKind
  /** The event as sent (valid and duplicate messages only). */
  readonly event?: EventInput
  /** How a malformed message breaks the contract. */
  readonly defect?: MalformedKind
  /** For poison: the hostile case's name. */
  readonly poison?: string
}

export interface GeneratorOptions {
  readonly seed: number
  /** Size of the user population; popularity is Zipf-skewed over it. */
  readonly users: number
  /** Share of all messages that repeat an earlier valid one, in [0, 1]. */
  readonly duplicateRatio: number
  /** Share of all messages that break the contract, in [0, 1]. */
  readonly malformedRatio: number
  /** Share of all messages drawn from the hostile corpus's refused cases, in [0, 1]. Default 0. */
  readonly poisonRatio?: number
  /** Share of valid events whose event_time lags the send time by 1..maxLateMs. Default 0.02. */
  readonly lateRatio?: number
  /** Default 5000 ms. */
  readonly maxLateMs?: number
  /** Prefix of every event_id (ids are `${idPrefix}-${n}`). Default `s${seed}`. */
  readonly idPrefix?: string
  /** Zipf exponent of user popularity. Default 1.0. */
  readonly zipfExponent?: number
  /** How many recent valid messages a duplicate may be drawn from. Default 1000. */
  readonly duplicateWindow?: number
}

export interface EventGenerator {
  /** The next message, its event_time taken from `nowMs` (the send time, epoch ms). */
  readonly next: (nowMs: number) => GeneratedMessage
  /** The next `count` messages, all sent at `nowMs`. */
  readonly take: (count: number, nowMs: number) => ReadonlyArray<GeneratedMessage>
}

const ratio = (v: number) => Number.isFinite(v) && v >= 0 && v <= 1

/** A description of what is wrong with the options, or undefined when they are usable. */
export const checkGeneratorOptions = (o: GeneratorOptions): string | undefined => {
  if (!Number.isSafeInteger(o.seed)) return "seed must be an integer"
  if (!Number.isSafeInteger(o.users) || o.users < 1) return "users must be a positive integer"
  if (!ratio(o.duplicateRatio)) return "duplicate ratio must be between 0 and 1"
  if (!ratio(o.malformedRatio)) return "malformed ratio must be between 0 and 1"
  if (o.poisonRatio !== undefined && !ratio(o.poisonRatio)) return "poison ratio must be between 0 and 1"
  if (o.duplicateRatio + o.malformedRatio + (o.poisonRatio ?? 0) > 1)
    return "duplicate, malformed and poison ratios must add up to at most 1"
  if (o.lateRatio !== undefined && !ratio(o.lateRatio)) return "late ratio must be between 0 and 1"
  if (o.maxLateMs !== undefined && !(o.maxLateMs >= 1000)) return "maxLateMs must be at least 1000"
  return undefined
}

export const userId = (rank: number): string => `u-${String(rank).padStart(6, "0")}`

const malformedKinds = [
  "invalid_json",
  "missing_event_id",
  "bad_event_time",
  "user_id_not_string",
  "empty_object",
] as const satisfies ReadonlyArray<MalformedKind>

// event_time values the contract refuses: no offset, or not a time at all.
const badTime = (iso: string, random: Random): string =>
  pickOne(random, [
    iso.slice(0, -1),
    iso.slice(0, 19).replace("T", " "),
    "yesterday",
    "2026-13-45T99:99:99Z",
    "",
  ])

/** Throws a RangeError if the options are unusable (see checkGeneratorOptions). */
export const makeGenerator = (options: GeneratorOptions): EventGenerator => {
  const problem = checkGeneratorOptions(options)
  if (problem !== undefined) throw new RangeError(problem)
  const random = mulberry32(options.seed)
  const drawRank = zipf(options.users, options.zipfExponent ?? 1)
  const lateRatio = options.lateRatio ?? 0.02
  const maxLateMs = options.maxLateMs ?? 5_000
  const idPrefix = options.idPrefix ?? `s${options.seed}`
  const window = Math.max(1, options.duplicateWindow ?? 1_000)
  const poisonRatio = options.poisonRatio ?? 0
  // Built on the first draw (the cases are large); times in them come from that send time.
  let poisonPool: readonly [HostileCase, ...Array<HostileCase>] | undefined
  // Ring buffer of recent valid messages to draw duplicates from.
  const recent: Array<GeneratedMessage> = []
  let recentNext = 0
  let counter = 0

  const freshEvent = (nowMs: number): { readonly event: EventInput; readonly rank: number } => {
    counter += 1
    const eventId = `${idPrefix}-${counter}`
    const rank = drawRank(random)
    const channel = pickChannel(random)
    const type = pickEventType(channel, random)
    const lag = random() < lateRatio ? intBetween(random, 1_000, maxLateMs) : 0
    const properties = propertiesFor(type, channel, `o-${eventId}`, random)
    const event: EventInput = {
      event_id: eventId,
      user_id: userId(rank),
      event_type: type,
      dimension_channel: channel,
      event_source: pickSource(channel, random),
      event_time: new Date(nowMs - lag).toISOString(),
      ...(properties === undefined ? {} : { properties }),
    }
    return { event, rank }
  }

  const valid = (nowMs: number): GeneratedMessage => {
    const { event } = freshEvent(nowMs)
    const message: GeneratedMessage = {
      key: event.user_id,
      value: JSON.stringify(event),
      kind: "valid",
      event,
    }
    if (recent.length < window) recent.push(message)
    else recent[recentNext] = message
    recentNext = (recentNext + 1) % window
    return message
  }

  const malformed = (nowMs: number): GeneratedMessage => {
    const defect = pickOne(random, malformedKinds)
    const { event, rank } = freshEvent(nowMs)
    const { event_id: _id, ...withoutId } = event
    const body = (value: string, key: string | null = event.user_id): GeneratedMessage => ({
      key,
      value,
      kind: "malformed",
      defect,
    })
    switch (defect) {
      case "invalid_json": {
        // Any proper prefix of a JSON object is invalid JSON: the closing brace is missing.
        const text = JSON.stringify(event)
        return body(text.slice(0, intBetween(random, 1, text.length - 1)))
      }
      case "missing_event_id":
        return body(JSON.stringify(withoutId))
      case "bad_event_time":
        return body(JSON.stringify({ ...event, event_time: badTime(String(event.event_time), random) }))
      case "user_id_not_string":
        return body(JSON.stringify({ ...event, user_id: rank }), null)
      case "empty_object":
        return body("{}", null)
    }
  }

  const poison = (nowMs: number): GeneratedMessage => {
    poisonPool ??= poisonCases(`${idPrefix}-poison`, nowMs)
    const c = pickOne(random, poisonPool)
    return {
      key: c.key,
      value: c.value,
      ...(c.headers === undefined ? {} : { headers: c.headers }),
      kind: "malformed",
      defect: "poison",
      poison: c.name,
    }
  }

  const next = (nowMs: number): GeneratedMessage => {
    const u = random()
    if (u < options.malformedRatio) return malformed(nowMs)
    if (u < options.malformedRatio + poisonRatio) return poison(nowMs)
    if (u < options.malformedRatio + poisonRatio + options.duplicateRatio && recent.length > 0) {
      const original = recent[Math.floor(random() * recent.length)] ?? recent[0]
      if (original !== undefined) return { ...original, kind: "duplicate" }
    }
    return valid(nowMs)
  }

  const take = (count: number, nowMs: number): ReadonlyArray<GeneratedMessage> => {
    const out: Array<GeneratedMessage> = []
    for (let i = 0; i < count; i++) out.push(next(nowMs))
    return out
  }

  return { next, take }
}
