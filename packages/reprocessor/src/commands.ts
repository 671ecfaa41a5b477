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

const TIME_FORMS = `<time> is ISO-8601 with an offset (2026-11-25T10:00:00Z, 2026-11-25T18:00:00+08:00)
or epoch milliseconds (1795600800000). The range is half-open: FROM inclusive, TO exclusive.`

export const reprocessHelp = `usage: rtoa reprocess --from <time> --to <time> [--dry-run]

Replays the records of KAFKA_TOPIC whose Kafka timestamp lies in [FROM, TO) through the
processor's own stages (decode -> minute windows -> ClickHouse sink), restoring raw_events
and metrics_minutely after data was lost or a bug was fixed.

  --from <time>   start of the range (inclusive)
  --to <time>     end of the range (exclusive)
  --dry-run       print per partition the start/end offsets and record counts, and the
                  totals; read no record and write nothing (needs no ClickHouse)
  -h, --help      this text

${TIME_FORMS}

- Offsets come from record timestamps (Kafka offsets-for-times): per partition, from the first
  offset at or after FROM up to the first at or after TO. A record read whose event_time lies
  outside the range is written too: harmless, every write is idempotent.
- It reads with its own consumer and a throwaway group id; the processor's group
  (KAFKA_GROUP_ID) is never touched and nothing is committed anywhere.
- Running it twice, or next to the live processor, changes no metric: raw_events deduplicates
  on event_id, the metric states are sets. In local mode the embedded store admits one process:
  stop the processor first (it catches up when restarted). With CLICKHOUSE_URL both can run.
- Refused records (bad JSON, contract violations, event_time further than MAX_CLOCK_SKEW_MS
  ahead of the record's own timestamp) are counted, not republished: the processor already
  sent them to the dead-letter topic once.
- Records deleted by the topic's retention cannot be replayed; for those minutes use
  \`rtoa rebuild-metrics\`, which recomputes the metrics from raw_events.
`

export const rebuildMetricsHelp = `usage: rtoa rebuild-metrics --from <time> --to <time> [--dry-run]

Recomputes metrics_minutely for every whole minute touching [FROM, TO) from raw_events FINAL
(deduplicated) and replaces those minutes atomically: a query sees the old or the rebuilt
month partition, never a half-rebuilt window. Use it when the Kafka records are gone
(retention) or the metrics hold wrong states that a replay, which only adds, cannot remove.

  --from <time>   start of the range (inclusive; rounded down to the minute)
  --to <time>     end of the range (exclusive; rounded up to the minute)
  --dry-run       print the metrics before and what they would become; change nothing
  -h, --help      this text

${TIME_FORMS}

- Refuses a range where raw_events holds no event (it would only erase metrics).
- Rows the live processor writes into the same months during the rebuild are re-applied from
  raw_events after the swap, so nothing written meanwhile is lost.
- In local mode stop the processor first (the embedded store admits one process).
`

export interface RangeArgs {
  readonly from: string | undefined
  readonly to: string | undefined
  readonly dryRun: boolean
}

/** Kafka side: offsets-for-times and the replay consumer, over KAFKA_* settings. */
export const ReprocessKafkaLive = Layer.mergeAll(OffsetIndexLive, ReplayReaderLive()).pipe(
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
