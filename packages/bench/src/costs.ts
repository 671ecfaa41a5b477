import * as fs from "node:fs"
import * as path from "node:path"
import type { DrainRun } from "./results.ts"
import type { PerEventCosts, StoragePerEvent, TableStorage } from "./results-costs.ts"

/**
 * The capacity model's inputs (docs/capacity.md), from what a run measured: CPU per event of the
 * processor (split by thread) and of the Kafka-engine peer, Kafka log bytes per record, and disk
 * bytes per event per table.
 */

/** Active parts per table of the system's database, after a drain. */
export const storageSql = `SELECT
    table,
    sum(rows) AS rows,
    count() AS parts,
    sum(bytes_on_disk) AS bytes,
    sum(data_uncompressed_bytes) AS raw
FROM system.parts
WHERE active AND database = currentDatabase()
GROUP BY table
ORDER BY bytes DESC`

const toNumber = (v: unknown): number => (typeof v === "number" ? v : Number(v))

/** Rows of storageSql; rows without a table name or with non-numbers are dropped. */
export const parseStorage = (rows: ReadonlyArray<Record<string, unknown>>): ReadonlyArray<TableStorage> =>
  rows.flatMap((r) => {
    const t = {
      table: typeof r.table === "string" ? r.table : "",
      rows: toNumber(r.rows),
      parts: toNumber(r.parts),
      bytesOnDisk: toNumber(r.bytes),
      uncompressedBytes: toNumber(r.raw),
    }
    return t.table !== "" && [t.rows, t.parts, t.bytesOnDisk, t.uncompressedBytes].every(Number.isFinite)
      ? [t]
      : []
  })

/**
 * Bytes of a topic's log segments under a broker's data directory: every `<topic>-<partition>`
 * directory found below `dir` (whatever the layout of log dirs), its `*.log` files summed.
 */
export const topicBytes = (dir: string, topic: string): number => {
  const partitionDir = new RegExp(`^${topic.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}-\\d+$`)
  const walk = (d: string, depth: number): number => {
    let entries: Array<fs.Dirent> = []
    try {
      entries = fs.readdirSync(d, { withFileTypes: true })
    } catch {
      return 0
    }
    return entries.reduce((sum, e) => {
      if (!e.isDirectory()) return sum
      const full = path.join(d, e.name)
      if (!partitionDir.test(e.name)) return depth < 4 ? sum + walk(full, depth + 1) : sum
      return (
        sum +
        fs
          .readdirSync(full)
          .filter((f) => f.endsWith(".log"))
          .reduce((n, f) => n + fs.statSync(path.join(full, f)).size, 0)
      )
    }, 0)
  }
  return walk(dir, 0)
}

/** A process's CPU by thread group (cores) split into the JS main thread, V8 helpers and the rest. */
export const splitThreads = (threads: Readonly<Record<string, number>>) => {
  let main = 0
  let v8 = 0
  let rest = 0
  for (const [name, cores] of Object.entries(threads)) {
    if (name === "MainThread" || name === "node") main += cores
    else if (/^v8/i.test(name)) v8 += cores
    else rest += cores
  }
  return { main, v8, rest }
}

const us = (cores: number, perSec: number) => (perSec > 0 ? Math.round((cores / perSec) * 1e7) / 10 : 0)
const round1 = (x: number) => Math.round(x * 10) / 10

/** µs of CPU per event of a drain (cores / events per second). */
export const cpuUsPerEvent = (d: DrainRun) => us(d.cpuCores, d.eventsPerSec)

/** Disk bytes per event of each table holding at least 0.1 B per event after a drain. */
export const storagePerEvent = (
  storage: ReadonlyArray<TableStorage>,
  events: number,
): ReadonlyArray<StoragePerEvent> =>
  events <= 0
    ? []
    : storage
        .map((t) => ({
          table: t.table,
          bytesPerEvent: round1(t.bytesOnDisk / events),
          compression: t.bytesOnDisk > 0 ? round1(t.uncompressedBytes / t.bytesOnDisk) : 0,
        }))
        .filter((t) => t.bytesPerEvent >= 0.1)

/**
 * The per-event costs from the processor's plain drain and the peers' drains (the fastest peer);
 * undefined without a processor drain. `kafkaBytes`: the backlog's log bytes and records.
 */
export const perEventCosts = (
  processorDrain: DrainRun | undefined,
  peers: ReadonlyArray<DrainRun>,
  kafka: { readonly bytes: number; readonly records: number } | undefined,
): PerEventCosts | undefined => {
  if (processorDrain === undefined || processorDrain.eventsPerSec <= 0) return undefined
  const d = processorDrain
  const split = splitThreads(d.threadsCores)
  const peer = peers.reduce<DrainRun | undefined>(
    (best, p) =>
      p.eventsPerSec > 0 && (best === undefined || p.eventsPerSec > best.eventsPerSec) ? p : best,
    undefined,
  )
  return {
    source: `${d.system}: backlog drain (${d.events} events${d.partitions === undefined ? "" : `, ${d.partitions} partitions`})`,
    eventsPerSec: d.eventsPerSec,
    processorUs: cpuUsPerEvent(d),
    mainThreadUs: us(split.main, d.eventsPerSec),
    v8HelpersUs: us(split.v8, d.eventsPerSec),
    engineUs: us(split.rest, d.eventsPerSec),
    peer:
      peer === undefined
        ? null
        : { system: peer.system, eventsPerSec: peer.eventsPerSec, cpuUs: cpuUsPerEvent(peer) },
    kafkaBytesPerEvent:
      kafka === undefined || kafka.records <= 0 || kafka.bytes <= 0
        ? null
        : round1(kafka.bytes / kafka.records),
    disk: storagePerEvent(d.storage ?? [], d.ingested),
  }
}

/** For the log: the per-event costs on one line. */
export const describeCosts = (c: PerEventCosts) =>
  `per event: processor ${c.processorUs} µs CPU (main thread ${c.mainThreadUs}, V8 helpers ${c.v8HelpersUs}, engine and other threads ${c.engineUs})` +
  (c.peer === null ? "" : `; ${c.peer.system} ${c.peer.cpuUs} µs`) +
  (c.kafkaBytesPerEvent === null ? "" : `; Kafka ${c.kafkaBytesPerEvent} B/record`) +
  `; on disk ${c.disk.map((t) => `${t.table} ${t.bytesPerEvent} B (x${t.compression})`).join(", ") || "not measured"}`
