import { Option } from "effect"
import { describe, expect, it } from "vitest"
import { check, type Observation } from "../src/alerts/conditions.ts"
import {
  evaluateRules,
  RESOLVED_HOLD_MS,
  type RuleState,
  step,
  type Transition,
  toAlertStatus,
} from "../src/alerts/evaluate.ts"
import type {
  AlertRule,
  ConsumerLagRule,
  DeadLetterRatioRule,
  EventsChangeRule,
  FreshnessRule,
  UsersBelowRule,
} from "../src/alerts/rules.ts"

const T0 = Date.parse("2026-11-25T10:00:00.000Z")
const S = 1_000
const M = 60_000

const base = { description: "d", forMs: 2 * M, webhooks: [] as ReadonlyArray<string> }
const eventsChange = (o: Partial<EventsChangeRule> = {}): EventsChangeRule => ({
  ...base,
  name: "web_drop",
  kind: "events_change",
  filter: { channel: "Web" },
  direction: "drop",
  percent: 50,
  baseline_minutes: 3,
  min_baseline: 10,
  ...o,
})
const usersBelow: UsersBelowRule = { ...base, name: "users", kind: "users_below", filter: {}, min: 5 }
const deadLetters: DeadLetterRatioRule = {
  ...base,
  name: "dlq",
  kind: "dead_letter_ratio",
  windowMs: 5 * M,
  ratio: 0.1,
}
const lag: ConsumerLagRule = { ...base, name: "lag", kind: "consumer_lag", seconds: 30 }
const fresh: FreshnessRule = { ...base, name: "fresh", kind: "freshness", seconds: 5 }

const perMinute = (kind: "events_change" | "users_below", values: ReadonlyArray<number>): Observation => ({
  kind,
  perMinute: values,
})
const lagObs = (s: number | undefined): Observation => ({
  kind: "consumer_lag",
  maxLagSeconds: Option.fromNullable(s),
})

describe("alert conditions", () => {
  it("events_change compares the last complete minute with the mean of the baseline minutes", () => {
    const drop = check(eventsChange(), perMinute("events_change", [100, 110, 90, 40]))
    expect(drop).toMatchObject({ _tag: "Holds", value: -60, threshold: 50 })
    expect(drop.message).toBe(
      "channel=Web: 40 events in the last minute vs a baseline of 100/min (3 min): -60%, beyond -50%",
    )
    // Exactly 50% is not "more than" 50%.
    expect(check(eventsChange(), perMinute("events_change", [100, 100, 100, 50]))._tag).toBe("Clear")
    // A spike is not a drop...
    expect(check(eventsChange(), perMinute("events_change", [100, 100, 100, 300]))).toMatchObject({
      _tag: "Clear",
      value: 200,
    })
    // ...but it is for spike and either, and a drop is for either.
    const spike = eventsChange({ direction: "spike", percent: 100 })
    expect(check(spike, perMinute("events_change", [100, 100, 100, 300]))._tag).toBe("Holds")
    expect(check(spike, perMinute("events_change", [100, 100, 100, 10]))._tag).toBe("Clear")
    const either = eventsChange({ direction: "either", percent: 30 })
    expect(check(either, perMinute("events_change", [100, 100, 100, 131]))._tag).toBe("Holds")
    expect(check(either, perMinute("events_change", [100, 100, 100, 69]))._tag).toBe("Holds")
    expect(check(either, perMinute("events_change", [100, 100, 100, 120]))._tag).toBe("Clear")
  })

  it("events_change stays quiet on tiny traffic and waits for a full baseline", () => {
    const tiny = check(eventsChange(), perMinute("events_change", [9, 9, 9, 0]))
    expect(tiny).toMatchObject({ _tag: "Clear", value: null })
    expect(tiny.message).toContain("below min_baseline 10: not compared")
    expect(check(eventsChange({ min_baseline: 5 }), perMinute("events_change", [9, 9, 9, 0]))._tag).toBe(
      "Holds",
    )
    expect(check(eventsChange(), perMinute("events_change", [100, 40]))).toMatchObject({
      _tag: "Missing",
      message: "channel=Web: only 2 of the 4 complete minutes needed have data yet",
    })
    expect(check(eventsChange(), perMinute("events_change", [])).message).toBe("channel=Web: no data yet")
  })

  it("users_below looks at the last complete minute", () => {
    expect(check(usersBelow, perMinute("users_below", [4]))).toMatchObject({
      _tag: "Holds",
      value: 4,
      threshold: 5,
    })
    expect(check(usersBelow, perMinute("users_below", [5])).message).toBe(
      "all events: 5 unique users in the last minute, not below 5",
    )
    expect(check(usersBelow, perMinute("users_below", []))).toEqual({
      _tag: "Missing",
      threshold: 5,
      message: "all events: no data yet",
    })
  })

  it("dead_letter_ratio divides dead letters by records over the window", () => {
    const high = check(deadLetters, { kind: "dead_letter_ratio", deadLetters: 12, records: 100 })
    expect(high).toMatchObject({ _tag: "Holds", value: 0.12, threshold: 0.1 })
    expect(high.message).toBe("12 of 100 records dead-lettered in the last 5m (12%), above 10%")
    expect(check(deadLetters, { kind: "dead_letter_ratio", deadLetters: 10, records: 100 })._tag).toBe(
      "Clear",
    )
    expect(check(deadLetters, { kind: "dead_letter_ratio", deadLetters: 0, records: 0 })).toMatchObject({
      _tag: "Missing",
      message: "no records in the last 5m",
    })
  })

  it("consumer_lag and freshness compare seconds; none means no data yet", () => {
    expect(check(lag, lagObs(31))).toMatchObject({ _tag: "Holds", value: 31, threshold: 30 })
    expect(check(lag, lagObs(30))._tag).toBe("Clear")
    expect(check(lag, lagObs(undefined)).message).toBe("no partition has reported its lag yet")
    const stale = check(fresh, { kind: "freshness", freshnessMs: Option.some(7_250) })
    expect(stale).toMatchObject({ _tag: "Holds", value: 7.25, threshold: 5 })
    expect(stale.message).toBe("newest data is 7.3s old, above 5s")
    expect(check(fresh, { kind: "freshness", freshnessMs: Option.some(800) })._tag).toBe("Clear")
    expect(check(fresh, { kind: "freshness", freshnessMs: Option.none() })._tag).toBe("Missing")
  })

  it("no observation, failed inputs or a mismatched one: missing", () => {
    expect(check(lag, undefined)).toEqual({ _tag: "Missing", threshold: 30, message: "not observed" })
    expect(check(lag, { kind: "unavailable", reason: "ClickHouse down" }).message).toBe(
      "inputs unavailable: ClickHouse down",
    )
    expect(check(lag, { kind: "freshness", freshnessMs: Option.none() })._tag).toBe("Missing")
  })
})

/** Runs one rule through observations at the given times; returns every state and transition. */
const simulate = (rule: AlertRule, steps: ReadonlyArray<readonly [number, Observation | undefined]>) => {
  let states: ReadonlyMap<string, RuleState> = new Map()
  const history: Array<RuleState> = []
  const transitions: Array<Transition> = []
  for (const [at, obs] of steps) {
    const result = evaluateRules(
      [rule],
      obs === undefined ? new Map() : new Map([[rule.name, obs]]),
      states,
      T0 + at,
    )
    states = result.states
    const s = states.get(rule.name)
    if (s !== undefined) history.push(s)
    transitions.push(...result.transitions)
  }
  return { history, transitions, path: transitions.map((t) => `${t.from}->${t.to}@${(t.at - T0) / S}s`) }
}

describe("alert state machine", () => {
  const high = lagObs(60)
  const low = lagObs(1)

  it("ok -> pending when it holds, firing only after `for`, then resolved when it clears", () => {
    const { history, path, transitions } = simulate(lag, [
      [0, low],
      [10 * S, high],
      [60 * S, high],
      [129 * S, high],
      [130 * S, high],
      [200 * S, high],
      [210 * S, low],
    ])
    expect(history.map((s) => s.state)).toEqual([
      "ok",
      "pending",
      "pending",
      "pending",
      "firing",
      "firing",
      "resolved",
    ])
    expect(path).toEqual(["ok->pending@10s", "pending->firing@130s", "firing->resolved@210s"])
    // `since` is when the state was entered; staying firing keeps it.
    expect(history[5]?.since).toBe(T0 + 130 * S)
    expect(history[2]?.message).toBe("largest consumer lag 60s, above 30s (pending 50s of 2m)")
    expect(transitions[1]?.state).toMatchObject({ state: "firing", value: 60, threshold: 30 })
  })

  it("pending -> ok when it clears before `for`", () => {
    const { path, history } = simulate(lag, [
      [0, high],
      [60 * S, high],
      [90 * S, low],
      [200 * S, high],
    ])
    expect(path).toEqual(["ok->pending@0s", "pending->ok@90s", "ok->pending@200s"])
    // The `for` clock restarts after a clear.
    expect(history[3]?.since).toBe(T0 + 200 * S)
  })

  it("resolved -> ok after 10 minutes clear, or -> pending again if it holds", () => {
    const fire = [
      [0, high],
      [120 * S, high],
      [130 * S, low],
    ] as const
    const back = simulate(lag, [
      ...fire,
      [130 * S + RESOLVED_HOLD_MS - 1, low],
      [130 * S + RESOLVED_HOLD_MS, low],
    ])
    expect(back.path).toEqual([
      "ok->pending@0s",
      "pending->firing@120s",
      "firing->resolved@130s",
      "resolved->ok@730s",
    ])
    const again = simulate(lag, [...fire, [300 * S, high]])
    expect(again.path.at(-1)).toBe("resolved->pending@300s")
  })

  it("with `for` 0 a holding condition fires at once", () => {
    const { path } = simulate({ ...lag, forMs: 0 }, [
      [0, high],
      [10 * S, low],
      [20 * S, high],
    ])
    expect(path).toEqual(["ok->firing@0s", "firing->resolved@10s", "resolved->firing@20s"])
  })

  it("a missing observation keeps the state (and its since) and says so", () => {
    const { history, path } = simulate(lag, [
      [0, lagObs(undefined)],
      [10 * S, high],
      [20 * S, { kind: "unavailable", reason: "ClickHouse down" }],
      [130 * S, high],
      [140 * S, undefined],
      [150 * S, lagObs(undefined)],
    ])
    expect(history.map((s) => s.state)).toEqual(["ok", "pending", "pending", "firing", "firing", "firing"])
    expect(history[0]?.message).toBe("no partition has reported its lag yet; state kept (ok)")
    expect(history[2]).toMatchObject({
      since: T0 + 10 * S,
      value: null,
      message: "inputs unavailable: ClickHouse down; state kept (pending)",
    })
    // The `for` clock kept running through the gap.
    expect(path).toEqual(["ok->pending@10s", "pending->firing@130s"])
    expect(history[4]?.message).toBe("not observed; state kept (firing)")
  })

  it("every kind goes through the same machine", () => {
    const cases: ReadonlyArray<readonly [AlertRule, Observation, Observation]> = [
      [
        eventsChange(),
        perMinute("events_change", [100, 100, 100, 10]),
        perMinute("events_change", [100, 100, 100, 90]),
      ],
      [usersBelow, perMinute("users_below", [1]), perMinute("users_below", [50])],
      [
        deadLetters,
        { kind: "dead_letter_ratio", deadLetters: 50, records: 100 },
        { kind: "dead_letter_ratio", deadLetters: 0, records: 100 },
      ],
      [lag, high, low],
      [
        fresh,
        { kind: "freshness", freshnessMs: Option.some(60_000) },
        { kind: "freshness", freshnessMs: Option.some(1) },
      ],
    ]
    for (const [rule, holds, clears] of cases) {
      const { path } = simulate(rule, [
        [0, holds],
        [120 * S, holds],
        [130 * S, clears],
        [130 * S + RESOLVED_HOLD_MS, clears],
      ])
      expect(path, rule.kind).toEqual([
        "ok->pending@0s",
        "pending->firing@120s",
        "firing->resolved@130s",
        "resolved->ok@730s",
      ])
    }
  })

  it("evaluates several rules at once; unknown previous states start as ok", () => {
    const rules = [lag, fresh]
    const first = evaluateRules(rules, new Map([["lag", high]]), new Map(), T0)
    expect([...first.states.values()].map((s) => s.state)).toEqual(["pending", "ok"])
    expect(first.transitions.map((t) => t.rule.name)).toEqual(["lag"])
    const pending = first.states.get("lag")
    expect(pending && step(lag, pending, check(lag, low), T0 + S).state).toBe("ok")
  })

  it("AlertStatus carries epoch seconds and the rule's kind and description", () => {
    const { history } = simulate(lag, [[1_500, high]])
    const state = history[0]
    expect(state && toAlertStatus(lag, state)).toEqual({
      name: "lag",
      kind: "consumer_lag",
      description: "d",
      state: "pending",
      since: (T0 + 1_500 - 500) / S,
      value: 60,
      threshold: 30,
      message: "largest consumer lag 60s, above 30s (pending 0s of 2m)",
    })
  })
})
