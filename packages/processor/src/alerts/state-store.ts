import { ClickHouse, type TableRow } from "@rtoa/core"
import { AlertState } from "@rtoa/dashboard"
import { clickhouseTime } from "@rtoa/pipeline"
import { Clock, Context, Effect, Layer, Ref, Schema } from "effect"
import type { RuleState } from "./evaluate.ts"

/**
 * Where the rules' states outlive the process: a restarted processor carries on from them, so an
 * alert that was firing is not announced (and POSTed) again, and a pending one keeps its clock.
 * Saved on every transition, read once at start. A store that fails is logged, never fatal: the
 * alerts then start from ok, as before there was a store.
 */

/** A rule's saved state, with the kind it had (a rule redefined as another kind starts afresh). */
export interface SavedState {
  readonly kind: string
  readonly state: RuleState
}

export interface AlertStateStoreService {
  readonly load: Effect.Effect<ReadonlyMap<string, SavedState>>
  readonly save: (states: ReadonlyArray<{ readonly rule: string } & SavedState>) => Effect.Effect<void>
}

export class AlertStateStore extends Context.Tag("rtoa/AlertStateStore")<
  AlertStateStore,
  AlertStateStoreService
>() {}

/** One row of alert_states (db/007_alert_states.sql); times in epoch ms. */
const Row = Schema.Struct({
  rule: Schema.String,
  kind: Schema.String,
  state: AlertState,
  since: Schema.NumberFromString,
  value: Schema.NullOr(Schema.Number),
  threshold: Schema.NullOr(Schema.Number),
  message: Schema.String,
})
const decodeRows = Schema.decodeUnknown(Schema.Array(Row))

/** In ClickHouse (alert_states, newest row per rule wins). */
export const AlertStateStoreLive: Layer.Layer<AlertStateStore, never, ClickHouse> = Layer.effect(
  AlertStateStore,
  Effect.map(ClickHouse, (ch) => ({
    load: ch
      .query(
        `SELECT rule, kind, state, toString(toUnixTimestamp64Milli(since)) AS since, value, threshold, message
         FROM alert_states FINAL`,
      )
      .pipe(
        Effect.flatMap(decodeRows),
        Effect.map(
          (rows) =>
            new Map(
              rows.map((r) => [
                r.rule,
                {
                  kind: r.kind,
                  state: {
                    state: r.state,
                    since: r.since,
                    value: r.value,
                    threshold: r.threshold,
                    message: r.message,
                  },
                },
              ]),
            ),
        ),
        Effect.catchAll((e) =>
          Effect.as(
            Effect.logWarning(`alert states not read (alerts start from ok): ${e.message}`),
            new Map<string, SavedState>(),
          ),
        ),
      ),
    save: (states) =>
      states.length === 0
        ? Effect.void
        : Effect.flatMap(Clock.currentTimeMillis, (now) =>
            ch.insert(
              "alert_states",
              states.map(
                ({ rule, kind, state: s }): TableRow<"alert_states"> => ({
                  rule,
                  kind,
                  state: s.state,
                  since: clickhouseTime(s.since),
                  value: s.value,
                  threshold: s.threshold,
                  message: s.message,
                  updated_at: clickhouseTime(now),
                }),
              ),
            ),
          ).pipe(Effect.catchAll((e) => Effect.logWarning(`alert states not saved: ${e.message}`))),
  })),
)

/** In memory (unit tests): `saved` shows what was stored. */
export const makeAlertStateStoreMemory = (initial: ReadonlyMap<string, SavedState> = new Map()) =>
  Effect.map(Ref.make(initial), (saved) => ({
    saved,
    store: {
      load: Ref.get(saved),
      save: (states) =>
        Ref.update(saved, (m) => {
          const next = new Map(m)
          for (const { rule, kind, state } of states) next.set(rule, { kind, state })
          return next
        }),
    } satisfies AlertStateStoreService,
  }))

export const AlertStateStoreMemory: Layer.Layer<AlertStateStore> = Layer.effect(
  AlertStateStore,
  Effect.map(makeAlertStateStoreMemory(), (m) => m.store),
)
