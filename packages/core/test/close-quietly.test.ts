import { describe, expect, it } from "@effect/vitest"
import { Effect, Exit, Fiber, Logger, TestClock } from "effect"
import { closeQuietly } from "../src/close-quietly.ts"

/** Runs `effect` with a logger that keeps each message; returns them with the exit. */
const withLogs = <A, E>(effect: Effect.Effect<A, E>) =>
  Effect.gen(function* () {
    const logs: Array<string> = []
    const logger = Logger.make(({ logLevel, message }) => {
      logs.push(`${logLevel.label} ${Array.isArray(message) ? message.join(" ") : String(message)}`)
    })
    const exit = yield* effect.pipe(Effect.exit, Effect.provide(Logger.replace(Logger.defaultLogger, logger)))
    return { exit, logs }
  })

/** A resource whose close is `close`, used and released in its own scope. */
const useAndRelease = (close: () => Promise<void>) =>
  Effect.scoped(Effect.acquireRelease(Effect.succeed("client"), () => closeQuietly("the test client", close)))

describe("closeQuietly (resource releases)", () => {
  it.effect("a close that rejects is logged with what was closed; the scope closes without a defect", () =>
    Effect.gen(function* () {
      const { exit, logs } = yield* withLogs(
        useAndRelease(() => Promise.reject(new Error("broker went away"))),
      )
      expect(Exit.isSuccess(exit)).toBe(true)
      expect(logs).toEqual(["WARN closing the test client failed: broker went away"])
    }),
  )

  it.effect("a close that throws before returning a promise is logged the same way", () =>
    Effect.gen(function* () {
      const { exit, logs } = yield* withLogs(
        useAndRelease(() => {
          throw new Error("already closed")
        }),
      )
      expect(Exit.isSuccess(exit)).toBe(true)
      expect(logs).toEqual(["WARN closing the test client failed: already closed"])
    }),
  )

  it.effect("a close that never settles is given up after the timeout, with a warning", () =>
    Effect.gen(function* () {
      const fiber = yield* Effect.fork(
        withLogs(
          Effect.scoped(
            Effect.addFinalizer(() =>
              closeQuietly("the hung client", () => new Promise(() => {}), "5 seconds"),
            ),
          ),
        ),
      )
      yield* TestClock.adjust("5 seconds")
      const { exit, logs } = yield* Fiber.join(fiber)
      expect(Exit.isSuccess(exit)).toBe(true)
      expect(logs).toEqual(["WARN closing the hung client failed: no answer within 5s"])
    }),
  )

  it.effect("a close that succeeds logs nothing", () =>
    Effect.gen(function* () {
      const { exit, logs } = yield* withLogs(useAndRelease(() => Promise.resolve()))
      expect(Exit.isSuccess(exit)).toBe(true)
      expect(logs).toEqual([])
    }),
  )
})
