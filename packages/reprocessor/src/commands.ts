import { KafkaClientLive } from "@rtoa/core"
import { ClickHouseSinkLive } from "@rtoa/pipeline"
import { Console, Effect, Layer } from "effect"
import { OffsetIndexLive } from "./offset-index.ts"
import { type Progress, ProgressLive } from "./progress.ts"
import { MetricsRebuild, MetricsRebuildLive } from "./rebuild.ts"
import { ReplayReaderLive } from "./replay-reader.ts"
import { formatRebuild } from "./report.ts"
import { reprocess, reprocessDryRun } from "./reprocess.ts"
import { StoreLive } from "./store.ts"
import { parseRange } from "./time.ts"

export interface RangeArgs {
  readonly from: string | undefined
  readonly to: string | undefined
  readonly dryRun: boolean
}

/** Kafka side: offsets-for-times and the replay consumer, over KAFKA_* settings. */
export const ReprocessKafkaLive = Layer.mergeAll(OffsetIndexLive, ReplayReaderLive).pipe(
  Layer.provideMerge(KafkaClientLive),
)

/** Everything a real reprocess needs: store (refused when locked), sink, Kafka side, progress. */
export const ReprocessLive = (progress: Layer.Layer<Progress> = ProgressLive) =>
  Layer.mergeAll(ClickHouseSinkLive.pipe(Layer.provide(StoreLive("reprocess"))), ReprocessKafkaLive, progress)

/** `rtoa reprocess`: the range is checked before any connection is made. */
export const reprocessCommand = (args: RangeArgs) =>
  Effect.flatMap(parseRange(args.from, args.to), (range) =>
    args.dryRun
      ? reprocessDryRun(range).pipe(Effect.provide(ReprocessKafkaLive))
      : reprocess(range).pipe(Effect.provide(ReprocessLive())),
  ).pipe(Effect.asVoid)

/** `rtoa rebuild-metrics` */
export const rebuildMetricsCommand = (args: RangeArgs) =>
  Effect.flatMap(parseRange(args.from, args.to), (range) =>
    Effect.gen(function* () {
      const rebuild = yield* MetricsRebuild
      if (args.dryRun) return yield* Console.log(formatRebuild(yield* rebuild.preview(range), true))
      const summary = yield* rebuild.rebuild(range)
      yield* Console.log(formatRebuild(summary, false))
    }).pipe(Effect.provide(MetricsRebuildLive.pipe(Layer.provide(StoreLive("rebuild-metrics"))))),
  )
