import type { AlertStatus, AlertsResponse } from "@rtoa/dashboard"
import {
  Clock,
  Config,
  Context,
  Duration,
  Effect,
  Layer,
  PubSub,
  Ref,
  Schedule,
  type Scope,
  Stream,
} from "effect"
import type { Observation } from "./conditions.ts"
import { evaluateRules, initialState, type RuleState, type Transition, toAlertStatus } from "./evaluate.ts"
import { AlertInputs, type AlertInputsService, AlertInputsUnavailable } from "./inputs.ts"
import type { AlertRule } from "./rules.ts"
import { type AlertSettings, AlertsConfig, loadAlertSettings } from "./rules-file.ts"
import { AlertStateStore, type SavedState } from "./state-store.ts"
import { defaultWebhookOptions, makeWebhookSender, type WebhookOptions } from "./webhooks.ts"

export interface AlertsService {
  /** Every rule's state, as GET /api/alerts answers (evaluatedAt null before the first evaluation). */
  readonly status: Effect.Effect<AlertsResponse>
  /**
   * Subscribes at once and gives every transition from then on, for the page's server-sent events.
   * Subscribe before reading `status` so no change falls between the two. A reader that falls
   * behind loses the oldest changes rather than slowing the evaluator.
   */
  readonly changes: Effect.Effect<Stream.Stream<AlertStatus>, never, Scope.Scope>
}

export class Alerts extends Context.Tag("rtoa/Alerts")<Alerts, AlertsService>() {}

const CHANGES_CAPACITY = 256
const INPUT_CONCURRENCY = 4

/** Reads what one rule needs from the inputs. */
export const observe = (
  inputs: AlertInputsService,
  rule: AlertRule,
): Effect.Effect<Observation, AlertInputsUnavailable> => {
  switch (rule.kind) {
    case "events_change":
      return Effect.map(inputs.eventsPerMinute(rule.filter, rule.baseline_minutes + 1), (perMinute) => ({
        kind: rule.kind,
        perMinute,
      }))
    case "users_below":
      return Effect.map(inputs.usersPerMinute(rule.filter, 1), (perMinute) => ({
        kind: rule.kind,
        perMinute,
      }))
    case "dead_letter_ratio":
      return Effect.map(inputs.deadLettersAndRecords(rule.windowMs / 1_000), (r) => ({
        kind: rule.kind,
        ...r,
      }))
    case "consumer_lag":
      return Effect.map(inputs.maxLagSeconds, (maxLagSeconds) => ({ kind: rule.kind, maxLagSeconds }))
    case "freshness":
      return Effect.map(inputs.freshnessMs, (freshnessMs) => ({ kind: rule.kind, freshnessMs }))
  }
}

const logTransition = (t: Transition) => {
  const line = `alert ${t.rule.name} (${t.rule.kind}): ${t.from} -> ${t.to}: ${t.state.message}`
  return (t.to === "firing" ? Effect.logWarning(line) : Effect.logInfo(line)).pipe(
    Effect.annotateLogs({ alert: t.rule.name, alert_state: t.to }),
  )
}

/** The runner: evaluates every `interval` in a fiber that lives as long as the scope. */
export const makeAlerts = (
  settings: AlertSettings,
  webhookOptions: WebhookOptions = defaultWebhookOptions,
): Effect.Effect<AlertsService, never, AlertInputs | AlertStateStore | Scope.Scope> =>
  Effect.gen(function* () {
    const inputs = yield* AlertInputs
    const store = yield* AlertStateStore
    const { rules, interval, webhookUrls } = settings
    const startedAt = yield* Clock.currentTimeMillis
    // Where the last run left each rule (same name and kind), else ok.
    const saved = rules.length === 0 ? new Map<string, SavedState>() : yield* store.load
    const restore = (r: AlertRule): RuleState | undefined => {
      const s = saved.get(r.name)
      return s !== undefined && s.kind === r.kind ? s.state : undefined // a redefined rule starts afresh
    }
    const restored = rules.filter((r) => restore(r) !== undefined).map((r) => r.name)
    if (restored.length > 0) yield* Effect.logInfo(`alerts: states restored for ${restored.join(", ")}`)
    const current = yield* Ref.make<{ evaluatedAt: number | null; states: ReadonlyMap<string, RuleState> }>({
      evaluatedAt: null,
      states: new Map(rules.map((r) => [r.name, restore(r) ?? initialState(r, startedAt)])),
    })
    // Sliding: a slow page drops its oldest changes instead of back-pressuring the evaluator.
    const changes = yield* PubSub.sliding<AlertStatus>(CHANGES_CAPACITY)
    const webhooks = yield* makeWebhookSender(webhookOptions, [
      ...webhookUrls,
      ...rules.flatMap((r) => r.webhooks),
    ])

    // A rule whose inputs fail or hang is observed as unavailable: it keeps its state, the other
    // rules are still evaluated, and the next interval tries again.
    const observeAll = Effect.forEach(
      rules,
      (rule) =>
        observe(inputs, rule).pipe(
          Effect.timeoutFail({
            duration: interval,
            onTimeout: () =>
              new AlertInputsUnavailable({ message: `no answer within ${Duration.format(interval)}` }),
          }),
          Effect.catchAll(
            (e): Effect.Effect<Observation> => Effect.succeed({ kind: "unavailable", reason: e.message }),
          ),
          Effect.map((o) => [rule.name, o] as const),
        ),
      { concurrency: INPUT_CONCURRENCY },
    )

    const evaluateOnce = Effect.gen(function* () {
      const observations = new Map(yield* observeAll)
      const unavailable = [...observations].flatMap(([name, o]) =>
        o.kind === "unavailable" ? [`${name}: ${o.reason}`] : [],
      )
      if (unavailable.length > 0)
        yield* Effect.logWarning(
          `alert inputs unavailable (states kept, retried in ${Duration.format(interval)}): ${unavailable.join("; ")}`,
        )
      const now = yield* Clock.currentTimeMillis
      const previous = (yield* Ref.get(current)).states
      const { states, transitions } = evaluateRules(rules, observations, previous, now)
      yield* Ref.set(current, { evaluatedAt: now, states })
      yield* store.save(transitions.map((t) => ({ rule: t.rule.name, kind: t.rule.kind, state: t.state })))
      for (const t of transitions) {
        yield* logTransition(t)
        yield* PubSub.publish(changes, toAlertStatus(t.rule, t.state))
        if (t.to === "firing" || t.to === "resolved")
          yield* webhooks.send([...webhookUrls, ...t.rule.webhooks], {
            rule: t.rule.name,
            kind: t.rule.kind,
            description: t.rule.description,
            state: t.to,
            previousState: t.from,
            value: t.state.value,
            threshold: t.state.threshold,
            message: t.state.message,
            time: new Date(t.at).toISOString(),
          })
      }
    }).pipe(
      Effect.withSpan("alerts.evaluate", { attributes: { "alerts.rules": rules.length } }),
      // Nothing in one evaluation may stop the next, nor the program.
      Effect.catchAllCause((cause) =>
        Effect.logError("alert evaluation failed; retrying next interval", cause),
      ),
    )

    if (rules.length > 0) yield* Effect.forkScoped(Effect.repeat(evaluateOnce, Schedule.spaced(interval)))
    yield* Effect.logInfo(
      rules.length === 0
        ? "alerts: no rules"
        : `alerts: ${rules.length} rule(s), evaluated every ${Duration.format(interval)}, ${webhookUrls.length} webhook(s) for all`,
    )

    const service: AlertsService = {
      status: Effect.map(Ref.get(current), ({ evaluatedAt, states }) => ({
        evaluatedAt: evaluatedAt === null ? null : Math.floor(evaluatedAt / 1_000),
        alerts: rules.map((r) => toAlertStatus(r, states.get(r.name) ?? initialState(r, startedAt))),
      })),
      changes: Stream.fromPubSub(changes, { scoped: true }),
    }
    return service
  })

/** Alerts with its evaluation loop and webhook senders, for as long as the layer lives. */
export const layer = (
  settings: AlertSettings,
  webhookOptions: WebhookOptions = defaultWebhookOptions,
): Layer.Layer<Alerts, never, AlertInputs | AlertStateStore> =>
  Layer.scoped(Alerts, makeAlerts(settings, webhookOptions))

/**
 * ALERT_RULES_FILE, ALERT_EVALUATION_INTERVAL_MS and ALERT_WEBHOOK_URLS (AlertsConfig), the rules
 * file read and validated when the layer is built: a bad value or file fails there.
 */
export const layerConfig = (config: Config.Config.Wrap<AlertsConfig> = AlertsConfig) =>
  Layer.unwrapEffect(Effect.map(loadAlertSettings(Config.unwrap(config)), layer))
