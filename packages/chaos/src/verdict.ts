import type { Check, MinuteDiff } from "./compare.ts"
import type { EventDiff, EventSet } from "./event-diff.ts"
import { type FaultMeasure, renderFaultTable } from "./fault-measure.ts"
import type { PartitionProgress } from "./observe.ts"
import { formatRanges, type OffsetRange, type Position, toRanges } from "./positions.ts"

/**
 * What a chaos run leaves in its work directory (verdict.txt for people, verdict.json for tools),
 * passed or failed, and however early it stopped: enough to tell which step went wrong and, for
 * a wrong result, which records and minutes differ, without rerunning.
 */
export interface Verdict {
  readonly ok: boolean
  readonly seed: number
  readonly profile: string
  readonly work: string
  readonly durationSeconds: number
  /** The step the run was at when it ended: where it failed, or "done". */
  readonly step: string
  /** Why the run stopped before or at the comparison (undefined when it got a result). */
  readonly failure?: string
  /** Timed events and warnings along the way (kills, catch-up, timeouts that were tolerated). */
  readonly timeline: ReadonlyArray<string>
  readonly failedChecks: ReadonlyArray<Check>
  readonly checks: ReadonlyArray<Check>
  readonly minutes?: {
    readonly compared: number
    readonly differing: ReadonlyArray<
      MinuteDiff & { readonly eventsDelta: number; readonly usersDelta: number }
    >
  }
  /** Only computed when the event counts or minutes differ (it reads every raw_events row). */
  readonly events?: EventDiff
  readonly deadLetters?: {
    readonly notDeadLettered: ReadonlyArray<OffsetRange>
    readonly wronglyDeadLettered: ReadonlyArray<OffsetRange>
  }
  /** The processor group's committed offsets against the topic's end, when the verdict was made. */
  readonly groupOffsets?: ReadonlyArray<PartitionProgress>
  /** The comparison table as printed. */
  readonly report?: string
  /** Cluster profile: each fault's stall and p99 latency (fault-measure.ts). */
  readonly faults?: ReadonlyArray<FaultMeasure>
  /** Last lines of each log in the work directory. */
  readonly logTails: Readonly<Record<string, ReadonlyArray<string>>>
}

export const minuteDeltas = (differing: ReadonlyArray<MinuteDiff>) =>
  differing.map((d) => ({
    ...d,
    eventsDelta: d.metrics.events - d.truth.events,
    usersDelta: d.metrics.users - d.truth.users,
  }))

export const deadLetterRanges = (
  notDeadLettered: ReadonlyArray<Position>,
  wronglyDeadLettered: ReadonlyArray<Position>,
) => ({ notDeadLettered: toRanges(notDeadLettered), wronglyDeadLettered: toRanges(wronglyDeadLettered) })

const signed = (n: number) => (n > 0 ? `+${n}` : String(n))
const total = (ranges: ReadonlyArray<OffsetRange>) => ranges.reduce((n, r) => n + r.count, 0)

const eventLines = (label: string, set: EventSet, where: string): Array<string> =>
  set.count === 0
    ? [`${label}: none`]
    : [
        `${label}: ${set.count} event_id(s) at ${total(set.ranges)} position(s) ${where}` +
          (set.unlocated > 0 ? `; ${set.unlocated} not in the events topic at all` : ""),
        `  ranges (partition:offsets): ${formatRanges(set.ranges)}`,
        `  e.g. ${set.sample.join(", ")}`,
      ]

/** The verdict as text: the outcome first, then each difference, then the logs' last lines. */
export const renderVerdict = (v: Verdict): string => {
  const out = [
    `chaos ${v.ok ? "PASSED" : "FAILED"}: profile=${v.profile} seed=${v.seed} (replay: CHAOS_SEED=${v.seed}) ${v.durationSeconds.toFixed(0)} s`,
    `work directory: ${v.work}`,
    `step: ${v.step}`,
  ]
  if (v.failure !== undefined) out.push(`why: ${v.failure}`)
  if (v.failedChecks.length > 0) {
    out.push("failed checks:")
    for (const c of v.failedChecks)
      out.push(`  - ${c.label}: truth ${c.truth}, observed ${c.observed} (${signed(c.observed - c.truth)})`)
  }
  if (v.minutes !== undefined && v.minutes.differing.length > 0) {
    out.push(`minutes differing: ${v.minutes.differing.length} of ${v.minutes.compared}`)
    for (const d of v.minutes.differing)
      out.push(
        `  ${d.minute}: events ${d.metrics.events} vs truth ${d.truth.events} (${signed(d.eventsDelta)}), users ${d.metrics.users} vs ${d.truth.users} (${signed(d.usersDelta)}), raw_events FINAL ${d.raw}`,
      )
  }
  if (v.events !== undefined) {
    out.push(...eventLines("missing from raw_events", v.events.missing, "in the events topic"))
    out.push(...eventLines("extra in raw_events (never acknowledged)", v.events.extra, "per kafka_* columns"))
  }
  if (v.deadLetters !== undefined) {
    const { notDeadLettered: not, wronglyDeadLettered: wrong } = v.deadLetters
    if (not.length > 0) out.push(`malformed but not dead-lettered (${total(not)}): ${formatRanges(not)}`)
    if (wrong.length > 0)
      out.push(`dead-lettered but not malformed (${total(wrong)}): ${formatRanges(wrong)}`)
  }
  if (v.groupOffsets !== undefined) {
    out.push("processor group offsets (partition committed/end):")
    out.push(`  ${v.groupOffsets.map((p) => `${p.partition}: ${p.committed}/${p.end}`).join("  ")}`)
  }
  if (v.timeline.length > 0) out.push("timeline:", ...v.timeline.map((l) => `  ${l}`))
  if (v.report !== undefined) out.push("", v.report, "")
  if (v.faults !== undefined) out.push(renderFaultTable(v.faults), "")
  for (const [name, lines] of Object.entries(v.logTails)) {
    if (lines.length > 0) out.push(`last lines of ${name}:`, ...lines.map((l) => `  ${l}`))
  }
  return `${out.join("\n")}\n`
}
