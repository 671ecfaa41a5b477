import type { Expected } from "./truth.ts"

/** What the pipeline produced, read back from ClickHouse and the dead-letter topic. */
export interface Observed {
  readonly rawFinal: number
  readonly rawPhysical: number
  readonly perMinute: ReadonlyMap<string, { readonly events: number; readonly users: number }>
  readonly deadLetterRecords: number
  /** Distinct source (partition, offset) among dead letters: replays republish, positions do not repeat. */
  readonly deadLetterDistinct: number
  /** Records in the events topic that break the contract (producer resends included). */
  readonly malformedInTopic: number
  /** Positions dead-lettered but not malformed in the topic, plus malformed ones not dead-lettered. */
  readonly deadLetterMismatches: number
}

export interface Comparison {
  readonly ok: boolean
  readonly report: string
}

const pad = (s: string | number, n: number) => String(s).padStart(n)

/**
 * Ground truth and ClickHouse side by side. Exact equality everywhere: `uniq` is exact below
 * 65,536 distinct values per state, far above one minute's users here.
 */
export const compare = (expected: Expected, observed: Observed): Comparison => {
  const lines: Array<string> = []
  let ok = true
  const check = (label: string, want: number, got: number, note = "", pass = want === got) => {
    ok &&= pass
    lines.push(`${pass ? "ok  " : "FAIL"}  ${label.padEnd(42)} ${pad(want, 10)} ${pad(got, 10)}  ${note}`)
  }
  lines.push(`      ${"check".padEnd(42)} ${pad("truth", 10)} ${pad("observed", 10)}`)
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
  check("positions dead-lettered xor malformed", 0, observed.deadLetterMismatches)
  lines.push(
    `info  ${"raw_events rows before merges".padEnd(42)} ${pad("", 10)} ${pad(observed.rawPhysical, 10)}  (replays and resends, collapsed by FINAL)`,
  )
  lines.push(
    `info  ${"dead-letter records incl. replays".padEnd(42)} ${pad("", 10)} ${pad(observed.deadLetterRecords, 10)}`,
  )
  lines.push(
    `info  ${"duplicates sent / unacknowledged sends".padEnd(42)} ${pad(expected.duplicates, 10)} ${pad(expected.unacked, 10)}`,
  )
  lines.push("")
  lines.push(
    `      ${"minute".padEnd(19)} ${pad("events", 8)} ${pad("in CH", 8)} ${pad("users", 8)} ${pad("in CH", 8)}`,
  )
  const minutes = new Set([...expected.perMinute.keys(), ...observed.perMinute.keys()])
  for (const minute of [...minutes].sort()) {
    const want = expected.perMinute.get(minute) ?? { events: 0, users: 0 }
    const got = observed.perMinute.get(minute) ?? { events: 0, users: 0 }
    const pass = want.events === got.events && want.users === got.users
    ok &&= pass
    lines.push(
      `${pass ? "ok  " : "FAIL"}  ${minute} ${pad(want.events, 8)} ${pad(got.events, 8)} ${pad(want.users, 8)} ${pad(got.users, 8)}`,
    )
  }
  if (expected.unacked > 0) {
    lines.push(
      `\nnote: ${expected.unacked} sends were not acknowledged; an exact comparison is not possible.`,
    )
    ok = false
  }
  return { ok, report: lines.join("\n") }
}
