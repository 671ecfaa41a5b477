import {
  ClickHouse,
  ClickHouseLive,
  ClickHouseReadOnlyLive,
  checkSchema,
  EndpointConfig,
  ensureAppTopics,
  ensureEndpointToken,
  KafkaClientLive,
  ProcessorConfig,
  ReadQueriesLive,
} from "@rtoa/core"
import {
  ClickHouseSinkLive,
  EventSource,
  type PipelineSettings,
  pipelineSettingsConfig,
  runPipeline,
} from "@rtoa/pipeline"
import { Duration, Effect, Fiber, Layer } from "effect"
import { AlertInputsLive, AlertStateStoreLive, loadAlertSettings } from "./alerts/index.ts"
import * as Alerts from "./alerts/runner.ts"
import * as Health from "./health.ts"
import * as Http from "./http.ts"
import * as KafkaDeadLetters from "./kafka-dead-letters.ts"
import * as KafkaSource from "./kafka-source.ts"
import { MetricsLive } from "./metrics.ts"
import { PipelineObserverLive } from "./pipeline-observer.ts"
import { SamplerLive } from "./sampler.ts"
import { inspectEngine } from "./startup.ts"
import * as Tracing from "./tracing.ts"

/**
 * Runs the pipeline until interrupted (SIGINT/SIGTERM via runMain), then drains: stop fetching,
 * flush the last partial batch, commit it, and only then let the layers close the clients.
 */
export const runUntilInterrupted = (settings: PipelineSettings, shutdownTimeoutMs: number, member = "0") =>
  Effect.gen(function* () {
    const source = yield* EventSource
    // A daemon, not a child: a child fiber would be interrupted together with this one, mid-batch,
    // and the drain below could not wait for it.
    const pipeline = yield* Effect.forkDaemon(runPipeline(settings, member))
    yield* Effect.logInfo("processor running")
    yield* Fiber.join(pipeline).pipe(
      Effect.onInterrupt(() =>
        Effect.gen(function* () {
          yield* Effect.logInfo("shutting down: flushing the last batch and committing")
          // The drain is inside the timeout: with the sink down, a stalled pipeline leaves the
          // source's bounded queue full and the end marker cannot be enqueued. Interrupt handlers
          // run uninterruptibly, so the timed part must be made interruptible or the timeout
          // would wait for it anyway.
          const finished = yield* source.drain.pipe(
            Effect.zipRight(Fiber.await(pipeline)),
            Effect.interruptible,
            Effect.timeout(shutdownTimeoutMs),
            Effect.option,
          )
          if (finished._tag === "None") {
            yield* Effect.logWarning(
              `the last batch did not finish within ${shutdownTimeoutMs} ms; it will be replayed`,
            )
            yield* Fiber.interrupt(pipeline)
          } else {
            yield* Effect.logInfo("processor stopped")
          }
        }),
      ),
    )
  })

/**
 * The whole processor program with its live layers: every setting is read from the environment
 * here (each layer's `settingsConfig`), then each layer is built with `layer(settings)`.
 */
export const processorProgram = Effect.gen(function* () {
  // Every setting is read and checked here, before anything connects or a topic is created: a bad
  // value (or rules file) stops the program naming its variable. The layers take the values.
  const config = yield* ProcessorConfig
  const pipelineSettings = yield* pipelineSettingsConfig
  const endpoint = yield* EndpointConfig
  const token = yield* ensureEndpointToken(endpoint)
  const alertSettings = yield* loadAlertSettings()
  const tracing = yield* Tracing.settingsConfig
  const health = yield* Health.settingsConfig
  const deadLetters = yield* KafkaDeadLetters.settingsConfig
  const source = yield* KafkaSource.settingsConfig
  const infra = Layer.mergeAll(ClickHouseLive, KafkaClientLive, MetricsLive)
  // The sinks (with the counts refresher and the dead-letter log they feed) and the sampler
  // come first: the operator endpoint and its console read them.
  const sinks = Layer.mergeAll(
    ClickHouseSinkLive,
    KafkaDeadLetters.layer(deadLetters),
    SamplerLive,
    Alerts.layer(alertSettings).pipe(Layer.provide([AlertInputsLive, AlertStateStoreLive])),
  )
  const stages = Http.layer({ endpoint, token }).pipe(
    Layer.provide(ReadQueriesLive),
    Layer.provideMerge(Layer.merge(sinks, PipelineObserverLive)),
    Layer.provideMerge(ClickHouseReadOnlyLive),
    Layer.provideMerge(Health.layer(health)),
  )

  // Each consumer-group member has its own source and pipeline; they share the sinks and the
  // engine (the embedded store admits one process, so local mode scales members in-process).
  const member = (settings: PipelineSettings, index: number) =>
    Effect.sleep(Duration.times(config.consumerStagger, index)).pipe(
      Effect.zipRight(
        runUntilInterrupted(settings, Duration.toMillis(config.shutdownTimeout), String(index)),
      ),
      Effect.provide(KafkaSource.layer(source)),
      Effect.annotateLogs("consumer", index),
    )
  const main = Effect.gen(function* () {
    const ch = yield* ClickHouse
    const health = yield* Health.Health
    yield* checkSchema(ch)
    const engine = yield* inspectEngine(ch)
    yield* Effect.logInfo(
      `ClickHouse ${engine.version} (${ch.mode === "Embedded" ? "embedded chDB" : "server"}); inserts span at most ${engine.maxPartitionsPerInsert} partitions`,
    )
    for (const w of engine.warnings) yield* Effect.logWarning(`ClickHouse: ${w}`)
    const settings = { ...pipelineSettings, maxPartitionsPerInsert: engine.maxPartitionsPerInsert }
    yield* health.started
    yield* Effect.all(
      Array.from({ length: config.consumers }, (_, i) => member(settings, i)),
      { concurrency: "unbounded", discard: true },
    ).pipe(
      Effect.tapError((e) =>
        e._tag === "ClickHouseError" && e.reason === "Schema"
          ? Effect.logError(
              `ClickHouse refused the writes for a reason no retry can fix (${e.code === undefined ? "" : `code ${e.code}: `}${e.message.trim()}): check that \`make ddl\` ran against this database and that the user may insert; stopping`,
            )
          : Effect.void,
      ),
      // Over the dead-letter limit the processor stops consuming but stays up, so /health,
      // /metrics and /query tell operators what happened until they fix the producers.
      Effect.catchTag("DeadLetterLimitExceeded", (e) =>
        Effect.gen(function* () {
          yield* health.fail(`dead-letter limit: ${e.message}`)
          yield* Effect.logError(
            `stopped consuming: ${e.message}. Nothing of the offending batch was dead-lettered or committed; fix the producers (make dlq shows the refused records) or raise the limit, then restart.`,
          )
          return yield* Effect.never
        }),
      ),
    )
  })
  yield* Effect.zipRight(ensureAppTopics, main.pipe(Effect.provide(stages))).pipe(
    Effect.provide(Layer.mergeAll(infra, Tracing.layer(tracing))),
  )
})
