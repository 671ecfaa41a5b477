import type { Random } from "@rtoa/producer"
import { Duration, Effect, Ref, Schedule as Sched } from "effect"
import { queryRows, waitHealthy } from "./observe.ts"
import { ChaosError, type Proc, waitExit } from "./procs.ts"

export interface SuperviseSettings {
  /** Milliseconds after the producer started at which to SIGKILL the processor. */
  readonly killsAt: ReadonlyArray<number>
  /** Group members per processor start, cycling. */
  readonly consumers: ReadonlyArray<number>
  readonly rate: number
  readonly port: number
  /** Seeded, so CHAOS_SEED replays the same kill and restart jitter. */
  readonly jitter: Random
  /** Milliseconds since the producer started. */
  readonly elapsedMs: () => number
  readonly log: (line: string) => Effect.Effect<void>
  readonly start: (members: number) => Proc
  /** When set, the kill `index` waits for this instead of its moment in `killsAt` (cluster faults). */
  readonly killSignal?: (index: number) => Effect.Effect<void>
}

/**
 * Runs processors until interrupted: kills on schedule, restarts whatever dies. Fails (ending the
 * run with a verdict) only when a started processor never answers /health.
 */
export const supervise = (
  s: SuperviseSettings,
  current: Ref.Ref<Proc | undefined>,
  killsDone: Ref.Ref<number>,
): Effect.Effect<never, ChaosError> =>
  Effect.gen(function* () {
    let starts = 0
    let kills = 0
    for (;;) {
      const members = s.consumers[starts % s.consumers.length] ?? 1
      const proc = s.start(members)
      starts += 1
      yield* Ref.set(current, proc)
      yield* s.log(
        `processor started (pid ${proc.child.pid}, ${members} group member${members > 1 ? "s" : ""})`,
      )
      const killAt = s.killsAt[kills]
      // Kill at the scheduled moment, but only after this processor has visibly worked (about two
      // seconds of traffic ingested since it came up), so every kill lands mid-stream. A query
      // that fails here (a loaded box) only delays the kill: it must never cancel it.
      const ingestedNow = queryRows(s.port, "SELECT count() AS n FROM raw_events").pipe(
        Effect.map((rows) => Number(rows[0]?.n ?? 0)),
      )
      const killWhenDue = Effect.gen(function* () {
        if (killAt === undefined) return yield* Effect.never
        yield* waitHealthy(s.port)
        const atStart = yield* ingestedNow.pipe(Effect.orElseSucceed(() => 0))
        const progressed = yield* ingestedNow.pipe(
          Effect.filterOrFail(
            (n) => n >= atStart + 2 * s.rate,
            () => new ChaosError({ message: "no progress yet" }),
          ),
          Effect.retry(Sched.spaced("200 millis").pipe(Sched.upTo("30 seconds"))),
          Effect.option,
        )
        if (progressed._tag === "None")
          yield* s.log(`processor ingested under ${2 * s.rate} events in 30 s; killing it anyway`)
        if (s.killSignal !== undefined) yield* s.killSignal(kills)
        else {
          const due = Math.max(killAt, s.elapsedMs()) + Math.floor(s.jitter() * 1_500)
          yield* Effect.sleep(Duration.millis(due - s.elapsedMs()))
        }
        return { _tag: "kill" as const }
      })
      // raceFirst: a kill that cannot happen (processor never healthy) must fail the run, not
      // leave the race waiting for an exit that never comes.
      const outcome = yield* Effect.raceFirst(
        Effect.map(waitExit(proc), (code) => ({ _tag: "exited" as const, code })),
        killWhenDue,
      )
      if (outcome._tag === "kill") {
        const ingested = yield* queryRows(s.port, "SELECT count() AS n FROM raw_events FINAL").pipe(
          Effect.map((rows) => String(rows[0]?.n ?? "?")),
          Effect.orElseSucceed(() => "?"),
        )
        proc.child.kill("SIGKILL")
        yield* waitExit(proc)
        kills += 1
        yield* Ref.set(killsDone, kills)
        yield* s.log(
          `SIGKILL ${kills}/${s.killsAt.length} (pid ${proc.child.pid}) with ${ingested} distinct events ingested`,
        )
        yield* Effect.sleep(Duration.millis(300 + Math.floor(s.jitter() * 1_200)))
      } else {
        yield* s.log(`processor exited by itself (${outcome.code}); restarting`)
        yield* Effect.sleep("1 second")
      }
    }
  })
