import type { AlertState, AlertStatus } from "@rtoa/dashboard"
import { type Check, check, type Observation, thresholdOf } from "./conditions.ts"
import { type AlertRule, formatDuration } from "./rules.ts"

/**
 * The alert state machine, pure: (rules, observations, previous states, now) -> new states and
 * transitions. Times are epoch milliseconds.
 *
 *   ok        --holds-->               pending   (firing at once when `for` is 0)
 *   pending   --holds for `for`-->     firing
 *   pending   --clears-->              ok
 *   firing    --clears-->              resolved
 *   resolved  --clear for 10 min-->    ok
 *   resolved  --holds-->               pending   (firing at once when `for` is 0)
 *
 * A missing observation (no data yet, inputs unavailable) keeps the state and says so.
 */

export type AlertStateName = typeof AlertState.Type

export interface RuleState {
  readonly state: AlertStateName
  /** When the rule entered this state. */
  readonly since: number
  readonly value: number | null
  readonly threshold: number | null
  readonly message: string
}

export interface Transition {
  readonly rule: AlertRule
  readonly from: AlertStateName
  readonly to: AlertStateName
  readonly at: number
  /** The rule's state after the transition. */
  readonly state: RuleState
}

export interface Evaluation {
  readonly states: ReadonlyMap<string, RuleState>
  readonly transitions: ReadonlyArray<Transition>
}

/** How long a resolved alert stays visible as resolved before it returns to ok. */
export const RESOLVED_HOLD_MS = 10 * 60_000

export const initialState = (rule: AlertRule, now: number): RuleState => ({
  state: "ok",
  since: now,
  value: null,
  threshold: thresholdOf(rule),
  message: "not evaluated yet",
})

const enter = (
  to: AlertStateName,
  prev: RuleState,
  c: Check & { readonly value: number | null },
  now: number,
): RuleState => ({
  state: to,
  since: to === prev.state ? prev.since : now,
  value: c.value,
  threshold: c.threshold,
  message: c.message,
})

/** The next state of one rule given its condition now. */
export const step = (rule: AlertRule, prev: RuleState, c: Check, now: number): RuleState => {
  if (c._tag === "Missing")
    return {
      ...prev,
      value: null,
      threshold: c.threshold,
      message: `${c.message}; state kept (${prev.state})`,
    }
  if (c._tag === "Holds") {
    switch (prev.state) {
      case "ok":
      case "resolved":
        return rule.forMs === 0
          ? enter("firing", prev, c, now)
          : pending(enter("pending", prev, c, now), rule, now)
      case "pending":
        return now - prev.since >= rule.forMs
          ? enter("firing", prev, c, now)
          : pending(enter("pending", prev, c, now), rule, now)
      case "firing":
        return enter("firing", prev, c, now)
    }
  }
  switch (prev.state) {
    case "ok":
    case "pending":
      return enter("ok", prev, c, now)
    case "firing":
      return enter("resolved", prev, c, now)
    case "resolved":
      return enter(now - prev.since >= RESOLVED_HOLD_MS ? "ok" : "resolved", prev, c, now)
  }
}

// A pending alert says how long it has held, so the page shows how close it is to firing.
const pending = (s: RuleState, rule: AlertRule, now: number): RuleState => ({
  ...s,
  message: `${s.message} (pending ${formatDuration(Math.floor((now - s.since) / 1_000) * 1_000)} of ${formatDuration(rule.forMs)})`,
})

/** Evaluates every rule; rules without a previous state start as ok. */
export const evaluateRules = (
  rules: ReadonlyArray<AlertRule>,
  observations: ReadonlyMap<string, Observation>,
  previous: ReadonlyMap<string, RuleState>,
  now: number,
): Evaluation => {
  const states = new Map<string, RuleState>()
  const transitions: Array<Transition> = []
  for (const rule of rules) {
    const prev = previous.get(rule.name) ?? initialState(rule, now)
    const next = step(rule, prev, check(rule, observations.get(rule.name)), now)
    states.set(rule.name, next)
    if (next.state !== prev.state)
      transitions.push({ rule, from: prev.state, to: next.state, at: now, state: next })
  }
  return { states, transitions }
}

/** A rule's state as the console's API shows it (epoch seconds). */
export const toAlertStatus = (rule: AlertRule, s: RuleState): AlertStatus => ({
  name: rule.name,
  kind: rule.kind,
  description: rule.description,
  state: s.state,
  since: Math.floor(s.since / 1_000),
  value: s.value,
  threshold: s.threshold,
  message: s.message,
})
