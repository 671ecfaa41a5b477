import { Clock, Duration, Effect, Ref } from "effect"

/**
 * Pacing from elapsed time, not from counted ticks: the number of messages due is always
 * floor(elapsed * rate), computed from the start instant on the monotonic clock. Timer jitter and
 * per-tick rounding therefore never accumulate; the long-run rate is exact. Under TestClock the
 * same code runs on simulated time.
 */

const NANOS_PER_SECOND = 1_000_000_000n

/** Messages due `elapsedNanos` after the start at `rate` per second (rate: a positive integer). */
export const dueBy = (rate: number, elapsedNanos: bigint): number =>
  elapsedNanos <= 0n ? 0 : Number((elapsedNanos * BigInt(rate)) / NANOS_PER_SECOND)

/**
 * When message number `index` (1-based) falls due, rounded up to the next tick boundary so that a
 * high rate wakes once per tick for a batch rather than once per message.
 */
export const wakeAtNanos = (rate: number, index: number, tickNanos: bigint): bigint => {
  const r = BigInt(rate)
  const dueAt = (BigInt(index) * NANOS_PER_SECOND + r - 1n) / r
  return ((dueAt + tickNanos - 1n) / tickNanos) * tickNanos
}

export interface PacerOptions {
  /** Messages per second, a positive integer. */
  readonly rate: number
  /** Wake-up granularity. Default 10 ms. */
  readonly tick?: Duration.DurationInput
  /**
   * How many overdue messages may be owed before the excess is skipped. When sending falls behind
   * (a slow broker), the pacer does not build an unbounded debt to burst out later; the skipped
   * count is reported instead. Default: one second's worth (the rate).
   */
  readonly maxBacklog?: number
}

export interface PacerStats {
  /** Messages handed out so far. */
  readonly claimed: number
  /** Messages that fell due but were dropped because the backlog was full. */
  readonly skipped: number
}

export interface Pacer {
  /** Waits until at least one message is due, then claims up to `max` of those due. */
  readonly take: (max: number) => Effect.Effect<number>
  readonly stats: Effect.Effect<PacerStats>
  /** Time since the pacer started, on the monotonic clock. */
  readonly elapsed: Effect.Effect<Duration.Duration>
}

/** A pacer whose clock starts now. */
export const makePacer = (options: PacerOptions): Effect.Effect<Pacer> =>
  Effect.gen(function* () {
    const { rate } = options
    if (!Number.isSafeInteger(rate) || rate < 1)
      return yield* Effect.dieMessage(`rate must be a positive integer`)
    const tickNanos =
      BigInt(Math.max(1, Math.round(Duration.toMillis(options.tick ?? "10 millis")))) * 1_000_000n
    const maxBacklog = Math.max(1, options.maxBacklog ?? rate)
    const start = yield* Clock.currentTimeNanos
    const state = yield* Ref.make<PacerStats>({ claimed: 0, skipped: 0 })
    const elapsedNanos = Effect.map(Clock.currentTimeNanos, (now) => now - start)

    const take = (max: number): Effect.Effect<number> =>
      Effect.gen(function* () {
        if (max < 1) return 0
        for (;;) {
          const elapsed = yield* elapsedNanos
          const due = dueBy(rate, elapsed)
          const claimed = yield* Ref.modify(state, (s): [number, PacerStats] => {
            const owed = due - s.claimed - s.skipped
            if (owed <= 0) return [0, s]
            const skip = Math.max(0, owed - maxBacklog)
            const n = Math.min(owed - skip, max)
            return [n, { claimed: s.claimed + n, skipped: s.skipped + skip }]
          })
          if (claimed > 0) return claimed
          const s = yield* Ref.get(state)
          const wake = wakeAtNanos(rate, s.claimed + s.skipped + 1, tickNanos)
          yield* Effect.sleep(Duration.nanos(wake - elapsed))
        }
      })

    return {
      take,
      stats: Ref.get(state),
      elapsed: Effect.map(elapsedNanos, Duration.nanos),
    } satisfies Pacer
  })
