/**
 * Seeded randomness for the generator: the same seed gives the same message sequence, so a run
 * can be replayed and tests can assert on exact output. Math.random is never used.
 */

/** A source of uniform floats in [0, 1). */
export type Random = () => number

/** mulberry32: tiny, fast, and good enough statistically for simulated traffic. */
export const mulberry32 = (seed: number): Random => {
  let state = seed >>> 0
  return () => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296
  }
}

/** A whole number in [min, max]. */
export const intBetween = (random: Random, min: number, max: number): number =>
  min + Math.floor(random() * (max - min + 1))

/** One element of a non-empty list, uniformly. */
export const pickOne = <A>(random: Random, items: readonly [A, ...ReadonlyArray<A>]): A =>
  items[Math.floor(random() * items.length)] ?? items[0]

/** Picks among weighted choices; weights need not sum to 1. */
export const weighted = <A>(
  choices: readonly [readonly [A, number], ...ReadonlyArray<readonly [A, number]>],
) => {
  const total = choices.reduce((sum, [, w]) => sum + w, 0)
  return (random: Random): A => {
    let u = random() * total
    for (const [value, w] of choices) {
      u -= w
      if (u < 0) return value
    }
    return choices[choices.length - 1]?.[0] ?? choices[0][0]
  }
}

/**
 * Zipf-distributed ranks in [1, n]: P(rank k) ∝ 1 / k^exponent. The cumulative table is built once
 * (n floats) and sampled by binary search, so each draw is O(log n).
 */
export const zipf = (n: number, exponent: number) => {
  const cdf = new Float64Array(n)
  let sum = 0
  for (let k = 1; k <= n; k++) {
    sum += 1 / k ** exponent
    cdf[k - 1] = sum
  }
  return (random: Random): number => {
    const u = random() * sum
    let lo = 0
    let hi = n - 1
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      if ((cdf[mid] ?? sum) > u) hi = mid
      else lo = mid + 1
    }
    return lo + 1
  }
}
