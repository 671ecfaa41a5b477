import type { Position } from "./positions.ts"
import type { Expected } from "./truth.ts"

/** Distinct events and users of one minute. */
export interface MinuteCounts {
  readonly events: number
  readonly users: number
}

/** What the pipeline produced, read back from ClickHouse and the dead-letter topic. */
export interface Observed {
  readonly rawFinal: number
  readonly rawPhysical: number
  /** 'YYYY-MM-DD hh:mm:00' -> metrics_minutely's counts. */
  readonly perMinute: ReadonlyMap<string, MinuteCounts>
  /** 'YYYY-MM-DD hh:mm:00' -> raw_events FINAL rows: tells a lost raw row from a lost metric state. */
  readonly rawPerMinute: ReadonlyMap<string, number>
  readonly deadLetterRecords: number
  /** Distinct source (partition, offset) among dead letters: replays republish, positions do not repeat. */
  readonly deadLetterDistinct: number
  /** Records in the events topic that break the contract (producer resends included). */
  readonly malformedInTopic: number
  /** Malformed records of the events topic that no dead letter names. */
  readonly notDeadLettered: ReadonlyArray<Position>
  /** Positions dead letters name that are not malformed records of the events topic. */
  readonly wronglyDeadLettered: ReadonlyArray<Position>
}

/** One line of the verdict table. */
export interface Check {
  readonly label: string
  readonly truth: number
  readonly observed: number
  readonly pass: boolean
  readonly note?: string
}

/** A minute whose counts differ; `raw` is raw_events FINAL's count for it. */
export interface MinuteDiff {
  readonly minute: string
  readonly truth: MinuteCounts
  readonly metrics: MinuteCounts
  readonly raw: number
}

export interface Comparison {
  readonly ok: boolean
  readonly checks: ReadonlyArray<Check>
  readonly minutesCompared: number
  readonly minutesDiffering: ReadonlyArray<MinuteDiff>
  readonly report: string
}

const pad = (s: string | number, n: number) => String(s).padStart(n)
const noCounts: MinuteCounts = { events: 0, users: 0 }

/**
 * Ground truth and ClickHouse side by side. Exact equality everywhere: `uniq` is exact below
 * 65,536 distinct values per state, far above one minute's users here.
 */
export const compare = (expected: Expected, observed: Observed): Comparison => {
  const checks: Array<Check> = []
  const check = (label: string, truth: number, got: number, note?: string, pass = truth === got) =>
    checks.push({ label, truth, observed: got, pass, ...(note === undefined ? {} : { note }) })
  check("distinct valid events = raw_events FINAL", expected.validDistinct, observed.rawFinal)
  check(
    "malformed sent <= malformed in the topic",
    expected.malformed,
    observed.malformedInTopic,
    "(more: producer resends after a broker restart)",
    observed.malformedInTopic >= expected.malformed,
  )
  check(
    "malformed in the topic = dead letters (distinct)",
    observed.malformedInTopic,
    observed.deadLetterDistinct,
  )
  check(
    "positions dead-lettered xor malformed",
    0,
    observed.notDeadLettered.length + observed.wronglyDeadLettered.length,
  )
  check(
    "sends acknowledged (exact comparison possible)",
    0,
    expected.unacked,
    "(unacknowledged sends may or may not be in the topic)",
  )

  const minuteRows: Array<{ readonly diff: MinuteDiff; readonly pass: boolean }> = []
  const minutes = new Set([...expected.perMinute.keys(), ...observed.perMinute.keys()])
  for (const minute of [...minutes].sort()) {
    const truth = expected.perMinute.get(minute) ?? noCounts
    const metrics = observed.perMinute.get(minute) ?? noCounts
    const pass = truth.events === metrics.events && truth.users === metrics.users
    minuteRows.push({ diff: { minute, truth, metrics, raw: observed.rawPerMinute.get(minute) ?? 0 }, pass })
  }
  const minutesDiffering = minuteRows.filter((r) => !r.pass).map((r) => r.diff)
  const ok = checks.every((c) => c.pass) && minutesDiffering.length === 0

  const lines = [`      ${"check".padEnd(46)} ${pad("truth", 10)} ${pad("observed", 10)}`]
  for (const c of checks)
    lines.push(
      `${c.pass ? "ok  " : "FAIL"}  ${c.label.padEnd(46)} ${pad(c.truth, 10)} ${pad(c.observed, 10)}  ${c.note ?? ""}`.trimEnd(),
    )
  const info = (label: string, truth: string | number, got: string | number, note = "") =>
    lines.push(`info  ${label.padEnd(46)} ${pad(truth, 10)} ${pad(got, 10)}  ${note}`.trimEnd())
  info("raw_events rows before merges", "", observed.rawPhysical, "(replays and resends, collapsed by FINAL)")
  info("dead-letter records incl. replays", "", observed.deadLetterRecords)
  info("duplicates sent / unacknowledged sends", expected.duplicates, expected.unacked)
  lines.push("")
  lines.push(
    `      ${"minute".padEnd(19)} ${pad("events", 8)} ${pad("in CH", 8)} ${pad("raw", 8)} ${pad("users", 8)} ${pad("in CH", 8)}`,
  )
  for (const { diff: d, pass } of minuteRows)
    lines.push(
      `${pass ? "ok  " : "FAIL"}  ${d.minute} ${pad(d.truth.events, 8)} ${pad(d.metrics.events, 8)} ${pad(d.raw, 8)} ${pad(d.truth.users, 8)} ${pad(d.metrics.users, 8)}`,
    )
  return { ok, checks, minutesCompared: minuteRows.length, minutesDiffering, report: lines.join("\n") }
}
