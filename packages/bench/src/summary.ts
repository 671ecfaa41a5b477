import type { BenchResult } from "./results.ts"
import { renderConsole, table } from "./summary-console.ts"
import { renderPerEvent, renderScaleOut } from "./summary-scale.ts"
import { renderWrites } from "./summary-writes.ts"

/** The Markdown summary of a result (bench/results/<stamp>.md, also printed at the end). */

const n = (v: number | undefined | null) =>
  v === undefined || v === null ? "–" : Math.round(v).toLocaleString("en-US")
const f2 = (v: number) => v.toFixed(2)

export const renderSummary = (r: BenchResult): string => {
  const m = r.machine
  const out: Array<string> = [
    `# Benchmark ${r.date}`,
    "",
    `Machine: ${m.nproc} cores (${m.cpuModel}), ${n(m.memTotalMb)} MiB, ${m.kernel}; load average at start ${m.loadAvgAtStart.join(" / ")}.`,
    `Versions: node ${m.node}, Kafka ${m.kafka}, chDB ${m.chdb} (ClickHouse ${m.clickhouse}), kafkajs ${m.kafkajs}, @platformatic/kafka ${m.platformaticKafka}. Commit ${r.gitCommit.slice(0, 12)}.`,
    `Command: \`${r.command}\` (${n(r.elapsedS)} s).`,
    "",
    "## Fixed rates: end-to-end latency (ingested_at − event_time, ms)",
    "",
    table(
      [
        "system",
        "rate/s",
        "events (window)",
        "p50",
        "p95",
        "p99",
        "max",
        "probe p50/max",
        "CPU cores",
        "peak RSS MB (anon / engine)",
        "max lag",
      ],
      r.fixedRate.map((x) => [
        x.system,
        n(x.rate),
        `${n(x.ingested)}/${n(x.sent)} (${n(x.windowEvents)})`,
        n(x.latencyMs?.p50),
        n(x.latencyMs?.p95),
        n(x.latencyMs?.p99),
        n(x.latencyMs?.max),
        x.probeVisibleMs === null ? "–" : `${n(x.probeVisibleMs.p50)}/${n(x.probeVisibleMs.max)}`,
        f2(x.cpuCores),
        `${n(x.rssPeakMb)} (${n(x.rssAnonPeakMb)} / ${n(x.engineMemPeakMb)})`,
        n(x.lagMax),
      ]),
    ),
    "",
    "## Throughput",
    "",
    table(
      ["what", "events/s", "CPU cores", "peak RSS MB (anon / engine)"],
      [
        ...r.drain.map((d) => [
          `${d.system}: backlog drain (${n(d.events)} events)`,
          n(d.eventsPerSec),
          f2(d.cpuCores),
          `${n(d.rssPeakMb)} (${n(d.rssAnonPeakMb)} / ${n(d.engineMemPeakMb)})`,
        ]),
        ...(r.ceiling === null
          ? []
          : [["ceiling: Kafka ConsumerPerformance", n(r.ceiling.consumerFetchMsgPerSec), "–", "–"]]),
      ],
    ),
  ]
  out.push(
    ...renderScaleOut(r),
    ...renderPerEvent(r),
    ...renderWrites(r),
    ...renderConsole(r),
    "",
    "## Targets",
    "",
    table(
      ["target", "goal", "measured", "met"],
      r.targets.map((t) => [t.name, t.target, t.measured, t.met === null ? "–" : t.met ? "yes" : "**no**"]),
    ),
  )
  if (r.notes.length > 0) out.push("", "## Notes", "", ...r.notes.map((x) => `- ${x}`))
  return `${out.join("\n")}\n`
}
