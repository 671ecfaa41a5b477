import { inMemoryStages as pipelineStages } from "@rtoa/pipeline/test/fixtures"
import { Duration, Effect, Layer } from "effect"
import { Health, makeHealth } from "../src/health.ts"
import { Metrics, ProcessorMetrics } from "../src/metrics.ts"
import { PipelineObserverLive } from "../src/pipeline-observer.ts"

export { eventJson, pipelineDefaults, records, settle, T0, testSettings } from "@rtoa/pipeline/test/fixtures"

/**
 * The pipeline's in-memory stages watched as the processor watches them: its metrics and health,
 * through the observer of its wiring (pipeline-observer.ts).
 */
export const inMemoryStages = (options: Parameters<typeof pipelineStages>[0] = {}) =>
  Effect.gen(function* () {
    // The recording observer's `observed` is not wired here: the processor's observer is.
    const { observed: _, ...stages } = yield* pipelineStages(options)
    const metrics = new ProcessorMetrics()
    // Built once: every provide of `layer` sees the same health (its stall check is run by hand).
    const health = yield* makeHealth(Duration.seconds(30)).pipe(Effect.provideService(Metrics, metrics))
    const watched = Layer.merge(Layer.succeed(Metrics, metrics), Layer.succeed(Health, health))
    const layer = Layer.mergeAll(stages.stagesLayer, PipelineObserverLive.pipe(Layer.provideMerge(watched)))
    return { ...stages, metrics, health, layer }
  })
