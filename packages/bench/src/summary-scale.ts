import { cpuUsPerEvent, splitThreads } from "./costs.ts"
import type { BenchResult } from "./results.ts"
import { table } from "./summary-console.ts"

/** The scale-out and per-event-cost sections of the Markdown summary (summary.ts). */

const n = (v: number) => Math.round(v).toLocaleString("en-US")
const f2 = (v: number) => v.toFixed(2)
const opt = (v: number | undefined, show: (v: number) => string) => (v === undefined || v < 0 ? "–" : show(v))

export const renderScaleOut = (r: BenchResult): ReadonlyArray<string> => {
  const runs = r.scaleOut ?? []
  if (runs.length === 0) return []
  const base = runs.find((x) => x.members === 1)?.eventsPerSec
  return [
    "",
    `## Scale-out: one backlog on ${runs[0]?.partitions ?? "–"} partitions, group members in one process`,
    "",
    "PROCESSOR_CONSUMERS members, each its own Kafka consumer and pipeline, sharing the process's embedded engine (local mode admits one process). CPU by thread over each drain's p10-p90 interval: the JS main thread (consume, decode, grouping, insert body), V8's helper threads (GC), and the rest (the engine's insert parsing and writing, merges, the libuv workers running the chDB calls). Broker and whole machine (every process on the box, ours and others') in cores over the same interval; CPU pressure: share of that interval in which some runnable task waited for a CPU (/proc/pressure/cpu).",
    "",
    table(
      [
        "members",
        "events/s",
        "x 1 member",
        "CPU cores",
        "µs CPU / event",
        "main thread",
        "V8 helpers",
        "engine + other",
        "broker",
        "whole machine",
        "CPU pressure",
        "peak RSS MB (anon / engine)",
      ],
      runs.map((x) => {
        const t = splitThreads(x.threadsCores)
        return [
          String(x.members ?? "–"),
          n(x.eventsPerSec),
          base === undefined || base <= 0 ? "–" : `x${(x.eventsPerSec / base).toFixed(2)}`,
          f2(x.cpuCores),
          cpuUsPerEvent(x).toFixed(1),
          f2(t.main),
          f2(t.v8),
          f2(t.rest),
          opt(x.brokerCores, f2),
          opt(x.machineCores, f2),
          opt(x.cpuPressure, (p) => `${Math.round(p * 100)}%`),
          `${n(x.rssPeakMb)} (${n(x.rssAnonPeakMb)} / ${n(x.engineMemPeakMb)})`,
        ]
      }),
    ),
    "",
    `Threads (cores): ${runs
      .map(
        (x) =>
          `${x.members} member(s): ${Object.entries(x.threadsCores)
            .slice(0, 8)
            .map(([k, v]) => `${k} ${f2(v)}`)
            .join(", ")}`,
      )
      .join("; ")}`,
  ]
}

export const renderPerEvent = (r: BenchResult): ReadonlyArray<string> => {
  const c = r.perEvent
  if (c === undefined) return []
  return [
    "",
    "## Per-event costs (inputs of docs/capacity.md)",
    "",
    `From ${c.source} at ${n(c.eventsPerSec)} events/s: µs of CPU time per event = cores / events per second.`,
    "",
    table(
      ["what", "per event"],
      [
        ["processor, whole process", `${c.processorUs} µs CPU`],
        ["processor, JS main thread", `${c.mainThreadUs} µs CPU`],
        ["processor, V8 helper threads (GC)", `${c.v8HelpersUs} µs CPU`],
        ["processor, engine and other threads (inserts, merges)", `${c.engineUs} µs CPU`],
        ...(c.peer === null
          ? []
          : [
              [
                `${c.peer.system} (${n(c.peer.eventsPerSec)} events/s), whole process`,
                `${c.peer.cpuUs} µs CPU`,
              ],
            ]),
        ...(c.kafkaBytesPerEvent === null ? [] : [["Kafka log, per record", `${c.kafkaBytesPerEvent} B`]]),
        ...c.disk.map((t) => [`on disk: ${t.table} (compression x${t.compression})`, `${t.bytesPerEvent} B`]),
      ],
    ),
    "",
    "On disk: the table's active parts right after the drain (system.parts bytes_on_disk) over the events drained; tables under 0.1 B per event left out (their size follows minutes and dimensions, not events).",
  ]
}
