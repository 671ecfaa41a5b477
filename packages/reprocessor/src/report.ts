import type { ReplayPlan } from "./plan.ts"
import { formatCount, formatDuration } from "./progress.ts"
import type { RebuildSummary } from "./rebuild.ts"
import { deadLetterTotal, type ReplayStats } from "./replay.ts"
import { formatRange, formatTime } from "./time.ts"

const row = (cells: ReadonlyArray<string>) =>
  cells.map((c, i) => (i === 0 ? c.padStart(9) : c.padStart(14))).join("  ")

/** The per-partition table: where each partition's replay starts and ends, and how many records. */
export const formatPlan = (plan: ReplayPlan, dryRun: boolean): string =>
  [
    `reprocess${dryRun ? " (dry run)" : ""}: topic ${plan.topic}, range ${formatRange(plan.range)}, offsets by record timestamp`,
    row(["partition", "start offset", "end offset", "records"]),
    ...plan.partitions.map((p) =>
      row([String(p.partition), String(p.start), String(p.end), String(p.records)]),
    ),
    row(["total", "", "", String(plan.total)]),
  ].join("\n")

const formatDeadLetters = (stats: ReplayStats): string => {
  const total = deadLetterTotal(stats)
  if (total === 0) return "no refused records"
  const reasons = Object.entries(stats.deadLetters)
    .filter(([, n]) => (n ?? 0) > 0)
    .map(([reason, n]) => `${reason} ${n}`)
    .join(", ")
  return `${formatCount(total)} refused record(s) not republished to the dead-letter topic (${reasons})`
}

export const formatSummary = (stats: ReplayStats, elapsedMs: number): string => {
  const rate = elapsedMs > 0 ? Math.round((stats.records * 1_000) / elapsedMs) : stats.records
  return (
    `reprocess: done in ${formatDuration(elapsedMs)}: ${formatCount(stats.records)} records read (${formatCount(rate)}/s), ` +
    `${formatCount(stats.events)} events written through the processor's sink (idempotent), ${formatDeadLetters(stats)}`
  )
}

const totals = (t: { groups: number; events: number }) =>
  `${formatCount(t.groups)} minute/dimension group(s), ${formatCount(t.events)} event(s)`

/** What a rebuild changed (or, for a preview, would change). */
export const formatRebuild = (s: RebuildSummary, dryRun: boolean): string => {
  const minutes = Math.round((s.minutes.toMs - s.minutes.fromMs) / 60_000)
  return [
    `rebuild-metrics${dryRun ? " (dry run)" : ""}: minutes ${formatRange(s.minutes)} (${formatCount(minutes)} min), partition(s) ${s.partitions.join(", ")}`,
    `  raw_events FINAL: ${totals(s.raw)}, ${formatCount(s.raw.users)} user(s)`,
    `  metrics before:   ${totals(s.before)}`,
    s.after === undefined
      ? `  metrics after:    ${totals(s.raw)} (would be)`
      : `  metrics after:    ${totals(s.after)}`,
    dryRun
      ? "dry run: nothing was changed"
      : `replaced atomically per partition; then re-added the states of ${formatCount(s.caughtUp)} event(s) ingested since ${s.caughtUpSince === undefined ? "?" : formatTime(s.caughtUpSince)}, in case a write raced the swap (idempotent)`,
  ].join("\n")
}
