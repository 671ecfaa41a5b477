import { HelpDoc } from "@effect/cli"

/** What reprocess and rebuild-metrics do, below their --help's options (@effect/cli lists those). */

const TIME_FORMS = `<time> is ISO-8601 with an offset (2026-11-25T10:00:00Z, 2026-11-25T18:00:00+08:00)
or epoch milliseconds (1795600800000). The range is half-open: FROM inclusive, TO exclusive.`

const reprocessText = `Replays the records of KAFKA_TOPIC whose Kafka timestamp lies in [FROM, TO) through the
processor's own stages (decode -> minute windows -> ClickHouse sink), restoring raw_events
and metrics_minutely after data was lost or a bug was fixed.

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
  \`rtoa rebuild-metrics\`, which recomputes the metrics from raw_events.`

const rebuildMetricsText = `Recomputes metrics_minutely for every whole minute touching [FROM, TO) from raw_events FINAL
(deduplicated) and replaces those minutes atomically: a query sees the old or the rebuilt
month partition, never a half-rebuilt window. Use it when the Kafka records are gone
(retention) or the metrics hold wrong states that a replay, which only adds, cannot remove.

${TIME_FORMS}

- Refuses a range where raw_events holds no event (it would only erase metrics).
- Rows the live processor writes into the same months during the rebuild are re-applied from
  raw_events after the swap, so nothing written meanwhile is lost.
- In local mode stop the processor first (the embedded store admits one process).`

/** The longer notes `rtoa <command> --help` shows below the options, by command. */
export const notes: Readonly<Record<string, HelpDoc.HelpDoc>> = {
  reprocess: HelpDoc.blocks([HelpDoc.h1("NOTES"), HelpDoc.p(reprocessText)]),
  "rebuild-metrics": HelpDoc.blocks([HelpDoc.h1("NOTES"), HelpDoc.p(rebuildMetricsText)]),
}
