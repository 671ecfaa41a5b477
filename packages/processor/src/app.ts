import {
  ClickHouse,
  ClickHouseConfig,
  ClickHouseLive,
  ClickHouseReadOnly,
  checkSchema,
  ensureAppTopics,
  KafkaClientLive,
  makeReadOnlyClickHouse,
  ProcessorConfig,
} from "@rtoa/core"
import { Duration, Effect, Fiber, Layer } from "effect"
import { KafkaDeadLetterSinkLive } from "./dead-letters.ts"
import { HttpLive } from "./http.ts"
import { KafkaSourceLive } from "./kafka-source.ts"
import { MetricsLive } from "./metrics.ts"
import { defaultRetry, type PipelineSettings, runPipeline } from "./pipeline.ts"
import { ClickHouseSinkLive } from "./sink.ts"
import { EventSource } from "./source.ts"
import { TracingLive } from "./tracing.ts"

/**
 * Runs the pipeline until interrupted (SIGINT/SIGTERM via runMain), then drains: stop fetching,
 * flush the last partial batch, commit it, and only then let the layers close the clients.
 */
export const runUntilInterrupted = (settings: PipelineSettings, shutdownTimeoutMs: number) =>
  Effect.gen(function* () {
    const source = yield* EventSource
    // A daemon, not a child: a child fiber would be interrupted together with this one, mid-batch,
    // and the drain below could not wait for it.
    const pipeline = yield* Effect.forkDaemon(runPipeline(settings))
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

/** The whole processor program with its live layers, configured once from the environment. */
export const processorProgram = Effect.gen(function* () {
  const config = yield* ProcessorConfig
  const chConfig = yield* ClickHouseConfig
  const settings: PipelineSettings = {
    batchMaxRows: config.batchMaxRows,
    batchMaxWait: config.batchMaxWait,
    maxClockSkew: config.maxClockSkew,
    retry: defaultRetry,
  }
  const readOnly = Layer.scoped(
    ClickHouseReadOnly,
    makeReadOnlyClickHouse(chConfig, {
      timeoutSeconds: config.queryTimeoutSeconds,
      maxRows: config.queryMaxRows,
    }),
  )
  const infra = Layer.mergeAll(ClickHouseLive, KafkaClientLive, MetricsLive)
  const stages = Layer.mergeAll(
    ClickHouseSinkLive,
    KafkaDeadLetterSinkLive,
    HttpLive({ host: config.httpHost, port: config.httpPort, token: config.httpToken }),
  ).pipe(Layer.provideMerge(readOnly))

  // Each consumer-group member has its own source and pipeline; they share the sinks and the
  // engine (the embedded store admits one process, so local mode scales members in-process).
  const member = (index: number) =>
    Effect.sleep(Duration.times(config.consumerStagger, index)).pipe(
      Effect.zipRight(runUntilInterrupted(settings, Duration.toMillis(config.shutdownTimeout))),
      Effect.provide(
        KafkaSourceLive({
          queueCapacity: config.queueCapacity,
          maxBytesPerPartition: config.fetchMaxBytesPerPartition,
          fromBeginning: true,
          sessionTimeoutMs: Duration.toMillis(config.sessionTimeout),
        }),
      ),
      Effect.annotateLogs("consumer", index),
    )
  const main = Effect.gen(function* () {
    yield* checkSchema(yield* ClickHouse)
    yield* Effect.all(
      Array.from({ length: config.consumers }, (_, i) => member(i)),
      { concurrency: "unbounded", discard: true },
    )
  })
  yield* Effect.zipRight(ensureAppTopics, main.pipe(Effect.provide(stages))).pipe(
    Effect.provide(Layer.mergeAll(infra, TracingLive)),
  )
})
