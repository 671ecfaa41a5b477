import { ParseResult, Schema } from "effect"

/**
 * Alert rules as written in the rules file (snake_case keys, durations as "30s" / "2m" / "1h30m"),
 * decoded into the types the evaluator uses (durations in milliseconds). Every field carries the
 * form it accepts, so a bad file names the field and what would have been right.
 */

const UNIT_MS = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 } as const
const DURATION = /^(?:\d+(?:ms|s|m|h))+$/
const DURATION_PART = /(\d+)(ms|s|m|h)/g

/** "1h30m" -> 5_400_000; undefined when it is not a duration. */
export const parseDuration = (text: string): number | undefined => {
  if (!DURATION.test(text)) return undefined
  let ms = 0
  for (const [, n, unit] of text.matchAll(DURATION_PART))
    ms += Number(n) * UNIT_MS[unit as keyof typeof UNIT_MS]
  return ms
}

/** 90_000 -> "1m30s" (the shortest exact form, for messages). */
export const formatDuration = (ms: number): string => {
  if (ms === 0) return "0s"
  const parts: Array<string> = []
  let rest = ms
  for (const unit of ["h", "m", "s", "ms"] as const) {
    const n = Math.floor(rest / UNIT_MS[unit])
    if (n > 0) parts.push(`${n}${unit}`)
    rest -= n * UNIT_MS[unit]
  }
  return parts.join("")
}

// `override` makes the accepted form the message for a wrong type as well as a wrong value.
const accepts = (form: string, override = true) => ({
  message: () => ({ message: `expected ${form}`, override }),
})

const DurationMs = Schema.transformOrFail(Schema.String, Schema.Number, {
  strict: true,
  decode: (s, _, ast) => {
    const ms = parseDuration(s)
    return ms === undefined ? ParseResult.fail(new ParseResult.Type(ast, s)) : ParseResult.succeed(ms)
  },
  encode: (ms) => ParseResult.succeed(formatDuration(ms)),
}).annotations(accepts('a duration such as "30s", "2m" or "1h30m" (units ms, s, m, h)'))

const PositiveDurationMs = DurationMs.pipe(Schema.filter((ms) => ms > 0)).annotations(
  accepts('a duration above zero such as "30s", "5m" or "1h" (units ms, s, m, h)'),
)

const PositiveNumber = (example: string) =>
  Schema.Number.pipe(Schema.greaterThan(0)).annotations(accepts(`a number greater than 0 (e.g. ${example})`))

const Name = Schema.String.pipe(Schema.pattern(/^[A-Za-z0-9][A-Za-z0-9_.:-]{0,99}$/)).annotations(
  accepts("a name of 1-100 letters, digits, '_', '.', ':' or '-' (e.g. web_traffic_drop)"),
)

const Dimension = Schema.String.pipe(Schema.minLength(1), Schema.maxLength(64)).annotations(
  accepts("a dimension value of 1-64 characters (e.g. Web)"),
)

const WebhookUrl = Schema.String.pipe(Schema.filter((u) => isHttpUrl(u))).annotations(
  accepts("an http:// or https:// URL without user:password@"),
)

/** http(s) URLs without user:password@ (fetch refuses those; a token belongs in the path). */
export const isHttpUrl = (u: string): boolean => {
  if (!URL.canParse(u)) return false
  const { protocol, username, password } = new URL(u)
  return (protocol === "http:" || protocol === "https:") && username === "" && password === ""
}

/** Which events a per-minute rule counts: any of channel / source / type, all must match. */
export const EventFilter = Schema.Struct({
  channel: Schema.optionalWith(Dimension, { exact: true }),
  source: Schema.optionalWith(Dimension, { exact: true }),
  type: Schema.optionalWith(Dimension, { exact: true }),
})
export type EventFilter = typeof EventFilter.Type

const common = {
  name: Name,
  description: Schema.String.annotations(accepts("a text shown with the alert")),
  /** How long the condition must hold before pending turns firing. */
  forMs: Schema.propertySignature(DurationMs).pipe(Schema.fromKey("for")),
  /** Extra webhooks for this rule (the ALERT_WEBHOOK_URLS get every rule). */
  webhooks: Schema.optionalWith(
    Schema.Array(WebhookUrl).annotations(accepts("a list of http(s) URLs", false)),
    { default: () => [], exact: true },
  ),
}

const Direction = Schema.Literal("drop", "spike", "either").annotations(accepts("drop, spike or either"))

export const EventsChangeRule = Schema.Struct({
  kind: Schema.Literal("events_change"),
  ...common,
  filter: Schema.optionalWith(EventFilter, { default: () => ({}), exact: true }),
  direction: Direction,
  /** Alert when the last complete minute differs from the baseline by more than this (%). */
  percent: PositiveNumber("50"),
  baseline_minutes: Schema.Int.pipe(Schema.between(1, 1_440)).annotations(
    accepts("a whole number of minutes from 1 to 1440 (e.g. 15)"),
  ),
  /** Below this many events per minute of baseline the rule stays quiet. */
  min_baseline: Schema.optionalWith(
    Schema.Number.pipe(Schema.nonNegative()).annotations(accepts("a number of events per minute >= 0")),
    { default: () => 10, exact: true },
  ),
})
export type EventsChangeRule = typeof EventsChangeRule.Type

export const UsersBelowRule = Schema.Struct({
  kind: Schema.Literal("users_below"),
  ...common,
  filter: Schema.optionalWith(EventFilter, { default: () => ({}), exact: true }),
  min: Schema.Number.pipe(Schema.nonNegative()).annotations(accepts("a number of users per minute >= 0")),
})
export type UsersBelowRule = typeof UsersBelowRule.Type

export const DeadLetterRatioRule = Schema.Struct({
  kind: Schema.Literal("dead_letter_ratio"),
  ...common,
  windowMs: Schema.propertySignature(PositiveDurationMs).pipe(Schema.fromKey("window")),
  ratio: Schema.Number.pipe(Schema.between(0, 1)).annotations(accepts("a ratio from 0 to 1 (e.g. 0.05)")),
})
export type DeadLetterRatioRule = typeof DeadLetterRatioRule.Type

export const ConsumerLagRule = Schema.Struct({
  kind: Schema.Literal("consumer_lag"),
  ...common,
  seconds: PositiveNumber("30"),
})
export type ConsumerLagRule = typeof ConsumerLagRule.Type

export const FreshnessRule = Schema.Struct({
  kind: Schema.Literal("freshness"),
  ...common,
  /** The platform's freshness SLO is 5 seconds. */
  seconds: Schema.optionalWith(PositiveNumber("5"), { default: () => 5, exact: true }),
})
export type FreshnessRule = typeof FreshnessRule.Type

export type AlertRule =
  | EventsChangeRule
  | UsersBelowRule
  | DeadLetterRatioRule
  | ConsumerLagRule
  | FreshnessRule
export type AlertKind = AlertRule["kind"]

/** One schema per kind: a rule is decoded against its own kind's fields only. */
export const ruleSchemas = {
  events_change: EventsChangeRule,
  users_below: UsersBelowRule,
  dead_letter_ratio: DeadLetterRatioRule,
  consumer_lag: ConsumerLagRule,
  freshness: FreshnessRule,
} as const

export const ALERT_KINDS = Object.keys(ruleSchemas) as ReadonlyArray<AlertKind>

export const AlertRule: Schema.Schema<
  AlertRule,
  Schema.Schema.Encoded<(typeof ruleSchemas)[AlertKind]>
> = Schema.Union(EventsChangeRule, UsersBelowRule, DeadLetterRatioRule, ConsumerLagRule, FreshnessRule)

/** "channel=Web source=ios-app", or "all events" without a filter. */
export const describeFilter = (f: EventFilter): string => {
  const parts = (["channel", "source", "type"] as const).flatMap((k) =>
    f[k] === undefined ? [] : [`${k}=${f[k]}`],
  )
  return parts.length === 0 ? "all events" : parts.join(" ")
}
