import * as fs from "node:fs"
import { Data, Effect, type Scope } from "effect"
import type { GeneratedMessage, MalformedKind, MessageKind } from "./generator.ts"

/**
 * The ground-truth log: one JSON line per message the broker acknowledged, so an integrity test
 * can compute the expected per-minute event counts and unique users without trusting the pipeline.
 * Messages whose send was abandoned (shutdown timeout, retries exhausted) are written with
 * `unacked: true`: the broker may or may not have them.
 */

export class TruthFileError extends Data.TaggedError("TruthFileError")<{
  readonly path: string
  readonly message: string
  readonly cause?: unknown
}> {}

export interface TruthRecord {
  readonly kind: MessageKind
  readonly event_id?: string
  readonly user_id?: string
  /** event_time floored to the minute, ISO-8601 UTC (e.g. 2026-11-25T10:07:00Z). */
  readonly minute?: string
  readonly dimension_channel?: string
  readonly event_type?: string
  readonly event_source?: string
  readonly defect?: MalformedKind
  readonly unacked?: true
}

/** The minute an event_time (ISO string or epoch ms) falls in, as `YYYY-MM-DDTHH:MM:00Z`. */
export const minuteOf = (eventTime: string | number): string => {
  const ms = typeof eventTime === "number" ? eventTime : Date.parse(eventTime)
  return `${new Date(ms - (((ms % 60_000) + 60_000) % 60_000)).toISOString().slice(0, 16)}:00Z`
}

export const truthRecord = (message: GeneratedMessage, acked = true): TruthRecord => {
  const unacked = acked ? {} : { unacked: true as const }
  const { event } = message
  if (event === undefined) {
    return {
      kind: message.kind,
      ...(message.defect === undefined ? {} : { defect: message.defect }),
      ...unacked,
    }
  }
  return {
    kind: message.kind,
    event_id: event.event_id,
    user_id: event.user_id,
    minute: minuteOf(event.event_time),
    ...(event.dimension_channel === undefined ? {} : { dimension_channel: event.dimension_channel }),
    ...(event.event_type === undefined ? {} : { event_type: event.event_type }),
    ...(event.event_source === undefined ? {} : { event_source: event.event_source }),
    ...unacked,
  }
}

export interface TruthLog {
  readonly record: (
    messages: ReadonlyArray<GeneratedMessage>,
    acked: boolean,
  ) => Effect.Effect<void, TruthFileError>
}

/** A log that writes nothing, for runs without --truth. */
export const noTruthLog: TruthLog = { record: () => Effect.void }

/**
 * Opens (truncates) `path` for the scope's lifetime; closing flushes everything written. A write
 * stream keeps lines in order even when several sends are acknowledged at once.
 */
export const openTruthLog = (path: string): Effect.Effect<TruthLog, TruthFileError, Scope.Scope> =>
  Effect.gen(function* () {
    const fail = (cause: unknown) =>
      new TruthFileError({ path, message: cause instanceof Error ? cause.message : String(cause), cause })
    const stream = yield* Effect.acquireRelease(
      Effect.async<fs.WriteStream, TruthFileError>((resume) => {
        const s = fs.createWriteStream(path, { flags: "w", encoding: "utf8" })
        const onReady = () => {
          s.off("error", onError)
          resume(Effect.succeed(s))
        }
        const onError = (cause: Error) => {
          s.off("ready", onReady)
          resume(Effect.fail(fail(cause)))
        }
        s.once("ready", onReady)
        s.once("error", onError)
      }),
      // end() flushes what is buffered; its callback also fires (with the error) if that fails.
      (s) =>
        Effect.async<void>((resume) => {
          s.end((cause?: Error | null) =>
            resume(
              cause
                ? Effect.logWarning(`truth file ${path} was not fully written: ${cause.message}`)
                : Effect.void,
            ),
          )
        }),
    )
    let failure: TruthFileError | undefined
    stream.on("error", (cause) => {
      failure = fail(cause)
    })
    return {
      record: (messages, acked) =>
        Effect.suspend(() => {
          if (failure !== undefined) return Effect.fail(failure)
          if (messages.length === 0) return Effect.void
          stream.write(`${messages.map((m) => JSON.stringify(truthRecord(m, acked))).join("\n")}\n`)
          return Effect.void
        }),
    }
  })
