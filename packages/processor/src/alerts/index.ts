/**
 * Alert rules for the processor: rules from a YAML/JSON file, evaluated every interval against
 * `AlertInputs`, with states for the console (`Alerts.status`, `Alerts.changes`) and webhooks.
 *
 * Usage (in the program's edge, e.g. processorProgram in app.ts):
 *
 *   // loadAlertSettings() reads ALERT_RULES_FILE, ALERT_EVALUATION_INTERVAL_MS and
 *   // ALERT_WEBHOOK_URLS; a file that does not parse or validate fails there with an
 *   // AlertRulesError naming file, rule and field (runner.ts's layerConfig does both steps at
 *   // layer build). AlertInputsLive (SQL on ClickHouse + the Metrics service) provides
 *   // AlertInputs, and AlertStateStoreLive (alert_states) the states a restart carries on from.
 *   import * as Alerts from "./alerts/runner.ts"
 *   const settings = yield* loadAlertSettings()
 *   const alerts = Alerts.layer(settings).pipe(Layer.provide([AlertInputsLive, AlertStateStoreLive]))
 *   // ...merged with the other stages; the console's routes (console/) then read the service:
 *   const { status, changes } = yield* Alerts.Alerts
 *   //   GET /api/alerts  -> yield* status                        (an AlertsResponse)
 *   //   SSE              -> const s = yield* changes; yield* status (snapshot); then run `s`
 *   //                       (`changes` needs a Scope: the subscription lasts as long as it)
 *
 * In tests, `AlertInputsInMemory` provides AlertInputs plus `AlertInputsMemory` to feed it, and
 * `AlertStateStoreMemory` the store; with TestClock the minutes and the evaluation interval follow
 * simulated time.
 */
export * from "./conditions.ts"
export * from "./evaluate.ts"
export * from "./inputs.ts"
export * from "./inputs-live.ts"
export * from "./inputs-memory.ts"
export * from "./rules.ts"
export * from "./rules-file.ts"
export * from "./runner.ts"
export * from "./state-store.ts"
export * from "./webhooks.ts"
