import { Duration, Effect } from "effect"
import { messageOf } from "./errors.ts"

/**
 * A release for a client's close: a close that rejects, throws or does not settle within
 * `timeout` is logged with `what` was being closed, and the scope closes anyway. (Written as
 * `Effect.promise(close).pipe(Effect.ignore)`, a rejected close is a defect, which `ignore` does
 * not catch: the scope would die on its way out.)
 */
export const closeQuietly = (
  what: string,
  close: () => Promise<unknown>,
  timeout: Duration.DurationInput = Duration.seconds(30),
): Effect.Effect<void> =>
  Effect.tryPromise({ try: close, catch: messageOf }).pipe(
    // Releases run uninterruptibly: without this the timeout would wait for the close anyway.
    Effect.interruptible,
    Effect.timeoutFail({
      duration: timeout,
      onTimeout: () => `no answer within ${Duration.format(Duration.decode(timeout))}`,
    }),
    Effect.asVoid,
    Effect.catchAll((message) => Effect.logWarning(`closing ${what} failed: ${message}`)),
  )
