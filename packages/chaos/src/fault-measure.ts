/**
 * Per-fault measures of a cluster chaos run, from samples taken while it ran: the stall (seconds
 * without commit progress) and the end-to-end p99 latency around each fault. Pure, so the
 * arithmetic is unit-tested apart from the brokers.
 */

/** The group's committed offset per partition at one moment (partitions added later appear later). */
export interface OffsetSample {
  readonly at: number
  readonly committed: ReadonlyMap<number, number>
}

/** The processor's cumulative latency histogram at one moment (it restarts from 0 with the process). */
export interface LatencySample {
  readonly at: number
  /** Upper bounds in seconds, ascending; the last is +Infinity. */
  readonly bounds: ReadonlyArray<number>
  /** Cumulative counts per bound. */
  readonly cumulative: ReadonlyArray<number>
}

/** One injected fault: from the first action to the cluster being whole again. */
export interface Fault {
  readonly name: string
  readonly start: number
  readonly end: number
  readonly detail: string
}

export interface FaultMeasure {
  readonly name: string
  readonly detail: string
  /** Seconds from the fault's start until the cluster was whole again. */
  readonly durationSeconds: number
  /** Longest time one partition's committed offset stood still, among gaps touching the window. */
  readonly worstPartitionStallSeconds: number
  /** Longest time no partition's committed offset moved, among gaps touching the window. */
  readonly groupStallSeconds: number
  /** p99 of the events acknowledged within the window (interpolated within a histogram bucket). */
  readonly p99Ms: number | undefined
  readonly events: number
}

/** Times at which the committed offset of `partition` (or of any partition, when undefined) moved. */
export const advances = (samples: ReadonlyArray<OffsetSample>, partition?: number): Array<number> => {
  const last = new Map<number, number>()
  const out: Array<number> = []
  for (const s of samples) {
    let moved = false
    for (const [p, offset] of s.committed) {
      if (partition !== undefined && p !== partition) continue
      const before = last.get(p)
      if (before !== undefined && offset > before) moved = true
      if (before === undefined || offset > before) last.set(p, offset)
    }
    if (moved) out.push(s.at)
  }
  return out
}

/**
 * The longest gap between consecutive moves that overlaps [from, to]; a last move before `to`
 * with none after counts until `until` (the end of sampling).
 */
export const longestGap = (moves: ReadonlyArray<number>, from: number, to: number, until: number): number => {
  let worst = 0
  for (let i = 0; i < moves.length; i++) {
    const a = moves[i] ?? 0
    const b = moves[i + 1] ?? until
    if (b > from && a < to) worst = Math.max(worst, b - a)
  }
  return worst / 1_000
}

/** Histogram counts observed in [from, to]: sums of the deltas, a process restart counting from 0. */
export const windowCounts = (
  samples: ReadonlyArray<LatencySample>,
  from: number,
  to: number,
): Array<number> | undefined => {
  const inside = samples.filter((s) => s.at >= from && s.at <= to)
  const before = [...samples].reverse().find((s) => s.at < from)
  const first = inside[0]
  if (first === undefined) return undefined
  const total = first.cumulative.map(() => 0)
  let previous = before
  for (const s of inside) {
    const count = s.cumulative.at(-1) ?? 0
    const reset = previous === undefined || count < (previous.cumulative.at(-1) ?? 0)
    s.cumulative.forEach((c, i) => {
      total[i] = (total[i] ?? 0) + (reset ? c : c - (previous?.cumulative[i] ?? 0))
    })
    previous = s
  }
  return total
}

/** A quantile of cumulative bucket counts, linearly interpolated within its bucket (as Prometheus). */
export const quantile = (
  bounds: ReadonlyArray<number>,
  cumulative: ReadonlyArray<number>,
  q: number,
): number | undefined => {
  const total = cumulative.at(-1) ?? 0
  if (total === 0) return undefined
  const rank = q * total
  for (let i = 0; i < bounds.length; i++) {
    const c = cumulative[i] ?? 0
    if (c >= rank) {
      const lower = i === 0 ? 0 : (bounds[i - 1] ?? 0)
      const upper = bounds[i] ?? lower
      // Past the last finite bound nothing is known but that lower bound.
      if (!Number.isFinite(upper)) return lower
      const below = i === 0 ? 0 : (cumulative[i - 1] ?? 0)
      return lower + ((upper - lower) * (rank - below)) / Math.max(1, c - below)
    }
  }
  return bounds.at(-2)
}

/**
 * Measures each fault over [start, end + settleMs]: the stall of the worst partition and of the
 * whole group, and the p99 latency of what was acknowledged meanwhile.
 */
export const measureFaults = (
  faults: ReadonlyArray<Fault>,
  offsets: ReadonlyArray<OffsetSample>,
  latency: ReadonlyArray<LatencySample>,
  settleMs: number,
): Array<FaultMeasure> => {
  const until = offsets.at(-1)?.at ?? 0
  const partitions = new Set(offsets.flatMap((s) => [...s.committed.keys()]))
  const group = advances(offsets)
  return faults.map((f) => {
    const to = f.end + settleMs
    const worst = Math.max(
      0,
      ...[...partitions].map((p) => {
        const moves = advances(offsets, p)
        // A partition that has not moved yet at the fault's start (added later) is not stalled by it.
        return (moves[0] ?? Number.POSITIVE_INFINITY) > f.start ? 0 : longestGap(moves, f.start, to, until)
      }),
    )
    const counts = windowCounts(latency, f.start, to)
    const bounds = latency[0]?.bounds ?? []
    const p99 = counts === undefined ? undefined : quantile(bounds, counts, 0.99)
    return {
      name: f.name,
      detail: f.detail,
      durationSeconds: (f.end - f.start) / 1_000,
      worstPartitionStallSeconds: worst,
      groupStallSeconds: longestGap(group, f.start, to, until),
      p99Ms: p99 === undefined ? undefined : Math.round(p99 * 1_000),
      events: counts?.at(-1) ?? 0,
    }
  })
}

/** The table printed after a cluster run and kept in its verdict. */
export const renderFaultTable = (rows: ReadonlyArray<FaultMeasure>): string => {
  const header =
    "fault                  | lasted s | stall s (worst partition / group) | p99 ms | events | detail"
  const lines = rows.map(
    (r) =>
      `${r.name.padEnd(22)} | ${r.durationSeconds.toFixed(1).padStart(8)} | ${`${r.worstPartitionStallSeconds.toFixed(1)} / ${r.groupStallSeconds.toFixed(1)}`.padStart(33)} | ${String(r.p99Ms ?? "-").padStart(6)} | ${String(r.events).padStart(6)} | ${r.detail}`,
  )
  return [header, "-".repeat(header.length), ...lines].join("\n")
}
