/**
 * What the producer prints: a running throughput line every second and one summary line at the
 * end. On a terminal the running line overwrites itself; in a log file each second gets a line.
 */

export interface Terminal {
  /** True on a TTY: progress overwrites one line with `\r` instead of appending lines. */
  readonly interactive: boolean
  readonly write: (text: string) => void
}

export const stdoutTerminal = (): Terminal => ({
  interactive: process.stdout.isTTY === true,
  write: (text) => {
    process.stdout.write(text)
  },
})

/** A terminal that keeps what is written, for tests and for callers that print elsewhere. */
export const memoryTerminal = (interactive = false): Terminal & { readonly output: () => string } => {
  let text = ""
  return {
    interactive,
    write: (t) => {
      text += t
    },
    output: () => text,
  }
}

/** Messages the broker acknowledged, by kind, plus those whose fate is unknown. */
export interface Counts {
  readonly sent: number
  readonly valid: number
  readonly duplicates: number
  readonly malformed: number
  /** Abandoned at shutdown or after retries ran out: may or may not be in Kafka. */
  readonly unacked: number
}

export const noCounts: Counts = { sent: 0, valid: 0, duplicates: 0, malformed: 0, unacked: 0 }

export interface ProducerSummary extends Counts {
  readonly outcome: "completed" | "stopped" | "failed"
  /** Messages that fell due while sending was behind and were dropped rather than queued. */
  readonly skipped: number
  readonly elapsedMs: number
  /** Acknowledged messages per second over the whole run. */
  readonly achievedRate: number
  readonly targetRate: number
}

export interface Progress {
  readonly counts: Counts
  readonly elapsedMs: number
  /** Acknowledged messages per second over the last interval. */
  readonly currentRate: number
  readonly targetRate: number
  readonly inFlight: number
  readonly skipped: number
}

const n = (v: number) => v.toLocaleString("en-US")
const perSecond = (v: number) =>
  v.toLocaleString("en-US", { minimumFractionDigits: 1, maximumFractionDigits: 1 })
const seconds = (ms: number) => (ms / 1000).toFixed(1)

export const formatProgress = (p: Progress): string =>
  [
    `producer ${seconds(p.elapsedMs)}s`,
    `sent ${n(p.counts.sent)}`,
    `${perSecond(p.currentRate)}/s (target ${n(p.targetRate)}/s)`,
    `valid ${n(p.counts.valid)} dup ${n(p.counts.duplicates)} malformed ${n(p.counts.malformed)}`,
    `in-flight ${p.inFlight}`,
    ...(p.skipped > 0 ? [`skipped ${n(p.skipped)} (behind)`] : []),
  ].join("  ")

export const formatSummary = (s: ProducerSummary): string =>
  [
    `producer ${s.outcome}: sent ${n(s.sent)}`,
    ` (valid ${n(s.valid)}, duplicates ${n(s.duplicates)}, malformed ${n(s.malformed)})`,
    ` in ${seconds(s.elapsedMs)} s, achieved ${perSecond(s.achievedRate)} msg/s (target ${n(s.targetRate)}/s)`,
    s.skipped > 0 ? `, skipped ${n(s.skipped)} while behind` : "",
    s.unacked > 0 ? `, ${n(s.unacked)} unacknowledged` : "",
  ].join("")

// ESC[K clears the rest of the line, so a shorter line does not leave old characters behind.
export const progressText = (terminal: Terminal, line: string): string =>
  terminal.interactive ? `\r${line}\x1b[K` : `${line}\n`

export const summaryText = (terminal: Terminal, line: string): string =>
  terminal.interactive ? `\r${line}\x1b[K\n` : `${line}\n`
