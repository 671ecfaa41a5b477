import { Clock, Context, Effect, Layer, Ref } from "effect"

/**
 * Progress of a long replay. On a terminal a bar redrawn in place (rate and ETA); otherwise
 * (a pipe, a log file, CI) a plain line now and then and a last one at the end. Written to
 * stderr, so stdout keeps only the results.
 */
export interface ProgressService {
  readonly start: (total: number) => Effect.Effect<void>
  readonly advance: (n: number) => Effect.Effect<void>
  readonly finish: Effect.Effect<void>
}

export class Progress extends Context.Tag("rtoa/reprocessor/Progress")<Progress, ProgressService>() {}

export interface ProgressState {
  readonly done: number
  readonly total: number
  readonly elapsedMs: number
}

const number = new Intl.NumberFormat("en-US")
export const formatCount = (n: number): string => number.format(n)

export const formatDuration = (ms: number): string => {
  if (!Number.isFinite(ms)) return "?"
  const s = Math.round(ms / 1_000)
  if (ms < 10_000) return `${(ms / 1_000).toFixed(1)} s`
  if (s < 60) return `${s} s`
  if (s < 3_600) return `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, "0")} s`
  return `${Math.floor(s / 3_600)} h ${String(Math.floor((s % 3_600) / 60)).padStart(2, "0")} min`
}

/** Records per second so far, and the time left at that rate (undefined until measurable). */
export const rateAndEta = (state: ProgressState): { rate: number; etaMs: number | undefined } => {
  const rate = state.elapsedMs > 0 ? (state.done * 1_000) / state.elapsedMs : 0
  const left = Math.max(0, state.total - state.done)
  return { rate, etaMs: rate > 0 ? (left / rate) * 1_000 : left === 0 ? 0 : undefined }
}

const percent = (s: ProgressState) =>
  s.total > 0 ? Math.min(100, Math.floor((s.done * 100) / s.total)) : 100

/** `[########------------]  40%  1,200/3,000 records  2,400 rec/s  ETA 0.8 s` */
export const renderBar = (state: ProgressState, width = 24): string => {
  const filled = Math.round((percent(state) / 100) * width)
  const { rate, etaMs } = rateAndEta(state)
  const bar = `[${"#".repeat(filled)}${"-".repeat(width - filled)}]`
  return `${bar} ${String(percent(state)).padStart(3)}%  ${formatCount(state.done)}/${formatCount(state.total)} records  ${formatCount(Math.round(rate))} rec/s  ETA ${etaMs === undefined ? "?" : formatDuration(etaMs)}`
}

/** `progress: 1,200/3,000 records (40%), 2,400 records/s, ETA 0.8 s` */
export const renderLine = (state: ProgressState): string => {
  const { rate, etaMs } = rateAndEta(state)
  return `progress: ${formatCount(state.done)}/${formatCount(state.total)} records (${percent(state)}%), ${formatCount(Math.round(rate))} records/s, ${state.done >= state.total ? `done in ${formatDuration(state.elapsedMs)}` : `ETA ${etaMs === undefined ? "?" : formatDuration(etaMs)}`}`
}

export interface ProgressOptions {
  readonly mode: "tty" | "plain"
  readonly write: (text: string) => void
  /** Least time between two renders (TTY redraws / plain lines). */
  readonly intervalMs: number
}

export const makeProgress = (options: ProgressOptions): Effect.Effect<ProgressService> =>
  Effect.map(
    Ref.make({ done: 0, total: 0, startedAt: 0, renderedAt: Number.NEGATIVE_INFINITY }),
    (ref): ProgressService => {
      const render = (force: boolean) =>
        Effect.gen(function* () {
          const now = yield* Clock.currentTimeMillis
          const s = yield* Ref.get(ref)
          if (!force && now - s.renderedAt < options.intervalMs) return
          yield* Ref.set(ref, { ...s, renderedAt: now })
          const state = { done: s.done, total: s.total, elapsedMs: now - s.startedAt }
          yield* Effect.sync(() =>
            options.write(
              options.mode === "tty" ? `\r${renderBar(state)}\u001b[K` : `${renderLine(state)}\n`,
            ),
          )
        })
      return {
        start: (total) =>
          Effect.flatMap(Clock.currentTimeMillis, (now) =>
            Ref.set(ref, { done: 0, total, startedAt: now, renderedAt: now }),
          ),
        advance: (n) =>
          Ref.update(ref, (s) => ({ ...s, done: s.done + n })).pipe(Effect.zipRight(render(false))),
        finish: render(true).pipe(
          Effect.zipRight(options.mode === "tty" ? Effect.sync(() => options.write("\n")) : Effect.void),
        ),
      }
    },
  )

/** Bar on a terminal, plain lines every 2 s otherwise; both on stderr. */
export const ProgressLive: Layer.Layer<Progress> = Layer.effect(
  Progress,
  Effect.suspend(() =>
    makeProgress({
      mode: process.stderr.isTTY ? "tty" : "plain",
      write: (text) => process.stderr.write(text),
      intervalMs: process.stderr.isTTY ? 100 : 2_000,
    }),
  ),
)

export const ProgressSilent: Layer.Layer<Progress> = Layer.succeed(Progress, {
  start: () => Effect.void,
  advance: () => Effect.void,
  finish: Effect.void,
})
