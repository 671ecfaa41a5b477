/** Pure statistics used by the harness: nearest-rank percentiles, summaries, a least-squares slope. */

export interface Percentiles {
  readonly n: number
  readonly p50: number
  readonly p95: number
  readonly p99: number
  readonly max: number
  readonly mean: number
}

/**
 * Nearest-rank percentile of an ascending array (p in [0, 100]): the smallest value with at least
 * p% of the values at or below it. Undefined for an empty array.
 */
export const percentile = (sorted: ReadonlyArray<number>, p: number): number | undefined => {
  if (sorted.length === 0) return undefined
  if (p <= 0) return sorted[0]
  const rank = Math.ceil((Math.min(100, p) / 100) * sorted.length)
  return sorted[Math.max(0, rank - 1)]
}

/** p50/p95/p99/max/mean of unsorted values; undefined when there are none. */
export const summarize = (values: ReadonlyArray<number>): Percentiles | undefined => {
  if (values.length === 0) return undefined
  const sorted = [...values].sort((a, b) => a - b)
  let sum = 0
  for (const v of sorted) sum += v
  return {
    n: sorted.length,
    p50: percentile(sorted, 50) ?? 0,
    p95: percentile(sorted, 95) ?? 0,
    p99: percentile(sorted, 99) ?? 0,
    max: sorted[sorted.length - 1] ?? 0,
    mean: sum / sorted.length,
  }
}

/** Least-squares slope dy/dx of points (0 with fewer than two distinct x). */
export const slope = (points: ReadonlyArray<readonly [number, number]>): number => {
  const n = points.length
  if (n < 2) return 0
  let sx = 0
  let sy = 0
  for (const [x, y] of points) {
    sx += x
    sy += y
  }
  const mx = sx / n
  const my = sy / n
  let num = 0
  let den = 0
  for (const [x, y] of points) {
    num += (x - mx) * (y - my)
    den += (x - mx) ** 2
  }
  return den === 0 ? 0 : num / den
}

/** Rounds to `digits` decimals (for readable JSON and tables). */
export const round = (v: number, digits = 1): number => {
  const f = 10 ** digits
  return Math.round(v * f) / f
}
