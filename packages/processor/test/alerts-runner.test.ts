import { describe, expect, it } from "@effect/vitest"
import { AlertsResponse } from "@rtoa/dashboard"
import {
  Chunk,
  Clock,
  Context,
  Duration,
  Effect,
  Fiber,
  Layer,
  Logger,
  Option,
  Ref,
  Schema,
  Stream,
  TestClock,
} from "effect"
import { AlertInputsInMemory, AlertInputsMemory, type MemoryEvents } from "../src/alerts/inputs-memory.ts"
import type { AlertRule, ConsumerLagRule } from "../src/alerts/rules.ts"
import { Alerts, layer as alertsLayer } from "../src/alerts/runner.ts"
import {
  AlertStateStore,
  AlertStateStoreMemory,
  type AlertStateStoreService,
  makeAlertStateStoreMemory,
} from "../src/alerts/state-store.ts"

// Simulated time: TestClock starts at T0 (a whole minute); the runner evaluates every 10 s.
const T0 = Date.parse("2026-11-25T10:00:00.000Z")
const S = 1_000
const M = 60_000
const INTERVAL = 10 * S

const base = { description: "test rule", forMs: 0, webhooks: [] as ReadonlyArray<string> }
const lagRule: ConsumerLagRule = { ...base, name: "lag", kind: "consumer_lag", forMs: M, seconds: 30 }

const captureLogs = () => {
  const lines: Array<{ readonly level: string; readonly message: string }> = []
  const layer = Logger.replace(
    Logger.defaultLogger,
    Logger.make(({ logLevel, message }) => {
      lines.push({ level: logLevel.label, message: [message].flat().map(String).join(" ") })
    }),
  )
  return { lines, layer }
}

/** In-memory inputs, seeded before the runner's first evaluation at T0, and the runner. */
const harness = (
  rules: ReadonlyArray<AlertRule>,
  seed: (m: Context.Tag.Service<AlertInputsMemory>) => Effect.Effect<void> = () => Effect.void,
  store?: AlertStateStoreService,
) =>
  Effect.gen(function* () {
    yield* TestClock.setTime(T0)
    const inputs = yield* Layer.build(AlertInputsInMemory)
    const memory = Context.get(inputs, AlertInputsMemory)
    yield* seed(memory)
    const runner = yield* Layer.build(
      alertsLayer({ rules, interval: Duration.millis(INTERVAL), webhookUrls: [] }).pipe(
        Layer.provide(Layer.succeedContext(inputs)),
        Layer.provide(store === undefined ? AlertStateStoreMemory : Layer.succeed(AlertStateStore, store)),
      ),
    )
    const alerts = Context.get(runner, Alerts)
    // Subscribed before the first evaluation, so every transition is seen.
    const changes = yield* alerts.changes
    yield* settled(alerts)
    return { alerts, memory, changes }
  })

/** Lets the runner's fiber finish the evaluation due now. */
const settled = (alerts: Context.Tag.Service<Alerts>) =>
  Effect.gen(function* () {
    const now = yield* Clock.currentTimeMillis
    for (let i = 0; i < 1_000; i++) {
      const { evaluatedAt } = yield* alerts.status
      if (evaluatedAt !== null && evaluatedAt >= Math.floor(now / S)) break
      yield* Effect.yieldNow()
    }
    for (let i = 0; i < 20; i++) yield* Effect.yieldNow()
    return yield* alerts.status
  })

const advance = (alerts: Context.Tag.Service<Alerts>, ms: number) =>
  Effect.zipRight(TestClock.adjust(Duration.millis(ms)), settled(alerts))

const stateOf = (status: AlertsResponse, name: string) => status.alerts.find((a) => a.name === name)

/** `events` Web events in the minute starting `minute` minutes from T0 (negative: before), from `users` users. */
const web = (minute: number, events: number, users = 5): MemoryEvents => ({
  at: T0 + minute * M + 30 * S,
  events,
  users: Array.from({ length: users }, (_, i) => `u${i}`),
  channel: "Web",
})

describe("Alerts runner (TestClock, in-memory inputs)", () => {
  it.scoped("pending -> firing after `for`, resolved, ok after 10 min; status and changes follow", () => {
    const logs = captureLogs()
    return Effect.gen(function* () {
      const { alerts, memory, changes } = yield* harness([lagRule], (m) => m.setLagSeconds(90))
      const first = yield* alerts.status
      expect(Schema.decodeUnknownSync(AlertsResponse)(first)).toEqual(first)
      expect(first).toEqual({
        evaluatedAt: T0 / S,
        alerts: [
          {
            name: "lag",
            kind: "consumer_lag",
            description: "test rule",
            state: "pending",
            since: T0 / S,
            value: 90,
            threshold: 30,
            message: "largest consumer lag 90s, above 30s (pending 0s of 1m)",
          },
        ],
      })
      expect(stateOf(yield* advance(alerts, 50 * S), "lag")?.state).toBe("pending")
      const firing = yield* advance(alerts, INTERVAL)
      expect(stateOf(firing, "lag")).toMatchObject({ state: "firing", since: (T0 + M) / S })
      yield* memory.setLagSeconds(2)
      expect(stateOf(yield* advance(alerts, INTERVAL), "lag")?.state).toBe("resolved")
      expect(stateOf(yield* advance(alerts, 10 * M - INTERVAL), "lag")?.state).toBe("resolved")
      const ok = yield* advance(alerts, INTERVAL)
      expect(stateOf(ok, "lag")).toMatchObject({ state: "ok", since: (T0 + 70 * S + 10 * M) / S })
      expect(Schema.decodeUnknownSync(AlertsResponse)(ok)).toEqual(ok)

      const seen = yield* Stream.runCollect(Stream.take(changes, 4))
      expect(Chunk.toArray(seen).map((c) => `${c.state}@${c.since - T0 / S}`)).toEqual([
        "pending@0",
        "firing@60",
        "resolved@70",
        "ok@670",
      ])
      const transitions = logs.lines.filter((l) => l.message.startsWith("alert lag"))
      expect(
        transitions.map((l) => `${l.level} ${l.message.split(":")[0]} ${l.message.split(":")[1]}`),
      ).toEqual([
        "INFO alert lag (consumer_lag)  ok -> pending",
        "WARN alert lag (consumer_lag)  pending -> firing",
        "INFO alert lag (consumer_lag)  firing -> resolved",
        "INFO alert lag (consumer_lag)  resolved -> ok",
      ])
    }).pipe(Effect.provide(logs.layer))
  })

  it.scoped("events_change: the last complete minute against the baseline minutes", () =>
    Effect.gen(function* () {
      const rule: AlertRule = {
        ...base,
        name: "web_drop",
        kind: "events_change",
        filter: { channel: "Web" },
        direction: "drop",
        percent: 50,
        baseline_minutes: 3,
        min_baseline: 10,
      }
      const { alerts, memory } = yield* harness([rule], (m) =>
        m.addEvents([web(-3, 100), web(-2, 100), web(-1, 100), { ...web(-1, 1_000), channel: "Mobile" }]),
      )
      // Three complete minutes of data, four needed: kept ok, and said so.
      expect(stateOf(yield* alerts.status, "web_drop")?.message).toBe(
        "channel=Web: only 3 of the 4 complete minutes needed have data yet; state kept (ok)",
      )
      yield* memory.addEvents([web(0, 100), web(1, 10)])
      expect(stateOf(yield* advance(alerts, M), "web_drop")).toMatchObject({ state: "ok", value: 0 })
      // The minute being written (minute 1) is not compared until it is complete.
      expect(stateOf(yield* advance(alerts, 50 * S), "web_drop")?.state).toBe("ok")
      expect(stateOf(yield* advance(alerts, INTERVAL), "web_drop")).toMatchObject({
        state: "firing",
        value: -90,
      })
    }),
  )

  it.scoped("users_below, dead_letter_ratio and freshness read their inputs", () =>
    Effect.gen(function* () {
      const rules: ReadonlyArray<AlertRule> = [
        { ...base, name: "users", kind: "users_below", filter: { channel: "Web" }, min: 3 },
        { ...base, name: "dlq", kind: "dead_letter_ratio", windowMs: M, ratio: 0.1 },
        { ...base, name: "fresh", kind: "freshness", seconds: 5 },
      ]
      const { alerts, memory } = yield* harness(rules, (m) =>
        Effect.all([
          m.addEvents([web(-1, 50, 5), { at: T0 - 2 * S, events: 1 }]),
          m.addRecords(T0 - 30 * S, 100, 5),
        ]),
      )
      const first = yield* alerts.status
      expect(first.alerts.map((a) => [a.name, a.state, a.value])).toEqual([
        ["users", "ok", 5],
        ["dlq", "ok", 0.05],
        ["fresh", "ok", 2],
      ])
      yield* memory.addEvents([web(0, 50, 1)])
      yield* memory.addRecords(T0 + 5 * S, 50, 40)
      const later = yield* advance(alerts, M)
      // At T0+1m: one user in minute 0; 40 of 50 records in the last minute; newest event 30 s old.
      expect(later.alerts.map((a) => [a.name, a.state, a.value])).toEqual([
        ["users", "firing", 1],
        ["dlq", "firing", 0.8],
        ["fresh", "firing", 30],
      ])
      // No records in the window: the ratio is unknown and the state is kept.
      const quiet = yield* advance(alerts, 2 * M)
      expect(stateOf(quiet, "dlq")).toMatchObject({ state: "firing", value: null })
      expect(stateOf(quiet, "dlq")?.message).toBe("no records in the last 1m; state kept (firing)")
    }),
  )

  it.scoped("failing inputs are logged, keep the states and are retried next interval", () => {
    const logs = captureLogs()
    return Effect.gen(function* () {
      const { alerts, memory } = yield* harness([{ ...lagRule, forMs: 0 }], (m) => m.setLagSeconds(90))
      expect(stateOf(yield* alerts.status, "lag")?.state).toBe("firing")
      yield* memory.setUnavailable("ClickHouse: connection refused")
      const calls = yield* memory.calls
      const down = yield* advance(alerts, INTERVAL)
      expect(stateOf(down, "lag")).toMatchObject({
        state: "firing",
        message: "inputs unavailable: ClickHouse: connection refused; state kept (firing)",
      })
      expect(down.evaluatedAt).toBe((T0 + INTERVAL) / S)
      expect(logs.lines).toContainEqual({
        level: "WARN",
        message:
          "alert inputs unavailable (states kept, retried in 10s): lag: ClickHouse: connection refused",
      })
      yield* advance(alerts, INTERVAL)
      expect(yield* memory.calls).toBe(calls + 2)
      yield* memory.setUnavailable(undefined)
      yield* memory.setLagSeconds(1)
      expect(stateOf(yield* advance(alerts, INTERVAL), "lag")?.state).toBe("resolved")
    }).pipe(Effect.provide(logs.layer))
  })

  it.scoped("an input that never answers times out after an interval; the loop goes on", () =>
    Effect.gen(function* () {
      const { alerts, memory } = yield* harness([{ ...lagRule, forMs: 0 }], (m) => m.setLagSeconds(90))
      yield* memory.setLatency(Duration.hours(1))
      yield* TestClock.adjust(Duration.millis(INTERVAL))
      const stuck = yield* advance(alerts, INTERVAL)
      expect(stateOf(stuck, "lag")).toMatchObject({
        state: "firing",
        message: "inputs unavailable: no answer within 10s; state kept (firing)",
      })
      yield* memory.setLatency(Duration.zero)
      yield* memory.setLagSeconds(0)
      expect(stateOf(yield* advance(alerts, INTERVAL), "lag")?.state).toBe("resolved")
    }),
  )

  it.scoped("without rules there is no loop and an empty status", () =>
    Effect.gen(function* () {
      const context = yield* Layer.build(
        alertsLayer({ rules: [], interval: Duration.seconds(10), webhookUrls: [] }).pipe(
          Layer.provide([AlertInputsInMemory, AlertStateStoreMemory]),
        ),
      )
      const alerts = Context.get(context, Alerts)
      yield* TestClock.adjust(Duration.minutes(1))
      expect(yield* alerts.status).toEqual({ evaluatedAt: null, alerts: [] })
    }),
  )

  it.scoped("a restart carries on from the saved states: a firing alert is not announced again", () =>
    Effect.gen(function* () {
      const { saved, store } = yield* makeAlertStateStoreMemory()
      // First run: the lag holds for `for`, the rule fires; each transition is saved.
      const first = yield* Effect.scoped(
        Effect.gen(function* () {
          const { alerts } = yield* harness([lagRule], (m) => m.setLagSeconds(90), store)
          yield* advance(alerts, M)
          return yield* alerts.status
        }),
      )
      expect(stateOf(first, "lag")?.state).toBe("firing")
      const firingSince = stateOf(first, "lag")?.since
      expect((yield* Ref.get(saved)).get("lag")).toMatchObject({
        kind: "consumer_lag",
        state: { state: "firing" },
      })

      // Second run on the same store, the lag still there: firing since the same time, and no
      // transition (so no log line, no change event, no webhook).
      const { alerts, changes } = yield* harness([lagRule], (m) => m.setLagSeconds(90), store)
      const firstChange = yield* Effect.fork(Stream.runHead(changes))
      const status = yield* advance(alerts, INTERVAL)
      expect(stateOf(status, "lag")).toMatchObject({ state: "firing", since: firingSince })
      yield* advance(alerts, INTERVAL)
      expect(yield* Fiber.poll(firstChange)).toEqual(Option.none())

      // A rule redefined as another kind under the same name starts afresh.
      const redefined: AlertRule = { ...base, name: "lag", kind: "freshness", seconds: 5 }
      const fresh = yield* harness([redefined], () => Effect.void, store)
      expect(stateOf(yield* fresh.alerts.status, "lag")?.state).not.toBe("firing")
    }),
  )
})
