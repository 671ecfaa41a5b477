import { Option } from "effect"
import {
  type AlertRule,
  type ConsumerLagRule,
  type DeadLetterRatioRule,
  describeFilter,
  type EventsChangeRule,
  type FreshnessRule,
  formatDuration,
  type UsersBelowRule,
} from "./rules.ts"

/** What was read for one rule at one evaluation (the AlertInputs answers, per kind). */
export type Observation =
  /** baseline_minutes + 1 complete minutes, oldest first (the last one is compared). */
  | { readonly kind: "events_change"; readonly perMinute: ReadonlyArray<number> }
  | { readonly kind: "users_below"; readonly perMinute: ReadonlyArray<number> }
  | { readonly kind: "dead_letter_ratio"; readonly deadLetters: number; readonly records: number }
  | { readonly kind: "consumer_lag"; readonly maxLagSeconds: Option.Option<number> }
  | { readonly kind: "freshness"; readonly freshnessMs: Option.Option<number> }
  /** The inputs failed: the rule keeps its state. */
  | { readonly kind: "unavailable"; readonly reason: string }

/** A rule's condition at one evaluation; Missing means it cannot be told (the state is kept). */
export type Check =
  | {
      readonly _tag: "Holds" | "Clear"
      readonly value: number | null
      readonly threshold: number
      readonly message: string
    }
  | { readonly _tag: "Missing"; readonly threshold: number; readonly message: string }

/** The number a rule compares against, as shown next to its value. */
export const thresholdOf = (rule: AlertRule): number => {
  switch (rule.kind) {
    case "events_change":
      return rule.percent
    case "users_below":
      return rule.min
    case "dead_letter_ratio":
      return rule.ratio
    case "consumer_lag":
    case "freshness":
      return rule.seconds
  }
}

const round = (n: number, digits: number) => Math.round(n * 10 ** digits) / 10 ** digits
const pct = (ratio: number) => `${round(ratio * 100, 1)}%`

const compare = (holds: boolean, value: number | null, threshold: number, message: string): Check => ({
  _tag: holds ? "Holds" : "Clear",
  value,
  threshold,
  message,
})

const missing = (threshold: number, message: string): Check => ({ _tag: "Missing", threshold, message })

const eventsChange = (rule: EventsChangeRule, perMinute: ReadonlyArray<number>): Check => {
  const threshold = rule.percent
  const needed = rule.baseline_minutes + 1
  const what = `${describeFilter(rule.filter)}:`
  if (perMinute.length < needed)
    return missing(
      threshold,
      perMinute.length === 0
        ? `${what} no data yet`
        : `${what} only ${perMinute.length} of the ${needed} complete minutes needed have data yet`,
    )
  const recent = perMinute.slice(-needed)
  const last = recent[rule.baseline_minutes] ?? 0
  const baseline = recent.slice(0, rule.baseline_minutes).reduce((a, b) => a + b, 0) / rule.baseline_minutes
  const against = `${last} events in the last minute vs a baseline of ${round(baseline, 1)}/min (${rule.baseline_minutes} min)`
  // Tiny traffic swings by large percentages; below min_baseline the rule stays quiet.
  if (baseline < rule.min_baseline)
    return compare(
      false,
      null,
      threshold,
      `${what} ${against}, below min_baseline ${rule.min_baseline}: not compared`,
    )
  const change = ((last - baseline) / baseline) * 100
  const holds =
    rule.direction === "drop"
      ? -change > rule.percent
      : rule.direction === "spike"
        ? change > rule.percent
        : Math.abs(change) > rule.percent
  const sign = change > 0 ? "+" : ""
  const limit =
    rule.direction === "drop"
      ? `-${rule.percent}%`
      : rule.direction === "spike"
        ? `+${rule.percent}%`
        : `±${rule.percent}%`
  return compare(
    holds,
    round(change, 1),
    threshold,
    `${what} ${against}: ${sign}${round(change, 1)}%, ${holds ? "beyond" : "within"} ${limit}`,
  )
}

const usersBelow = (rule: UsersBelowRule, perMinute: ReadonlyArray<number>): Check => {
  const what = `${describeFilter(rule.filter)}:`
  const users = perMinute.at(-1)
  if (users === undefined) return missing(rule.min, `${what} no data yet`)
  const holds = users < rule.min
  return compare(
    holds,
    users,
    rule.min,
    `${what} ${users} unique users in the last minute, ${holds ? "below" : "not below"} ${rule.min}`,
  )
}

const deadLetterRatio = (rule: DeadLetterRatioRule, deadLetters: number, records: number): Check => {
  const window = formatDuration(rule.windowMs)
  if (records === 0) return missing(rule.ratio, `no records in the last ${window}`)
  const ratio = deadLetters / records
  const holds = ratio > rule.ratio
  return compare(
    holds,
    round(ratio, 4),
    rule.ratio,
    `${deadLetters} of ${records} records dead-lettered in the last ${window} (${pct(ratio)}), ${holds ? "above" : "not above"} ${pct(rule.ratio)}`,
  )
}

const consumerLag = (rule: ConsumerLagRule, lagSeconds: Option.Option<number>): Check =>
  Option.match(lagSeconds, {
    onNone: () => missing(rule.seconds, "no partition has reported its lag yet"),
    onSome: (lag) => {
      const holds = lag > rule.seconds
      return compare(
        holds,
        round(lag, 1),
        rule.seconds,
        `largest consumer lag ${round(lag, 1)}s, ${holds ? "above" : "not above"} ${rule.seconds}s`,
      )
    },
  })

const freshness = (rule: FreshnessRule, freshnessMs: Option.Option<number>): Check =>
  Option.match(freshnessMs, {
    onNone: () => missing(rule.seconds, "no data written yet"),
    onSome: (ms) => {
      const age = ms / 1_000
      const holds = age > rule.seconds
      return compare(
        holds,
        round(age, 3),
        rule.seconds,
        `newest data is ${round(age, 1)}s old, ${holds ? "above" : "within"} ${rule.seconds}s`,
      )
    },
  })

/** Evaluates a rule's condition on its observation (pure). */
export const check = (rule: AlertRule, observation: Observation | undefined): Check => {
  const threshold = thresholdOf(rule)
  if (observation === undefined) return missing(threshold, "not observed")
  if (observation.kind === "unavailable")
    return missing(threshold, `inputs unavailable: ${observation.reason}`)
  const mismatch = missing(threshold, `an observation of kind ${observation.kind} does not fit this rule`)
  switch (rule.kind) {
    case "events_change":
      return observation.kind === rule.kind ? eventsChange(rule, observation.perMinute) : mismatch
    case "users_below":
      return observation.kind === rule.kind ? usersBelow(rule, observation.perMinute) : mismatch
    case "dead_letter_ratio":
      return observation.kind === rule.kind
        ? deadLetterRatio(rule, observation.deadLetters, observation.records)
        : mismatch
    case "consumer_lag":
      return observation.kind === rule.kind ? consumerLag(rule, observation.maxLagSeconds) : mismatch
    case "freshness":
      return observation.kind === rule.kind ? freshness(rule, observation.freshnessMs) : mismatch
  }
}
