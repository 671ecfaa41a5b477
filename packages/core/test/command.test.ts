import { describe, expect, it } from "@effect/vitest"
import { type Duration, Effect, Exit } from "effect"
import { runCommand } from "../src/command.ts"

const node = (code: string, timeout?: Duration.DurationInput) =>
  runCommand(process.execPath, ["-e", code], process.env, timeout)

describe("runCommand", () => {
  it.effect("returns stdout and stderr of a successful command", () =>
    Effect.gen(function* () {
      const out = yield* node("process.stdout.write('out;'); process.stderr.write('err')")
      expect(out).toContain("out;")
      expect(out).toContain("err")
    }),
  )

  it.effect("fails with the exit code and the output on a non-zero exit", () =>
    Effect.gen(function* () {
      const exit = yield* Effect.exit(node("console.log('boom'); process.exit(3)"))
      expect(Exit.isFailure(exit) && String(exit.cause)).toMatch(/exited 3:\s+boom/)
    }),
  )

  it.live("kills a command that runs past its timeout", () =>
    Effect.gen(function* () {
      const started = Date.now()
      const exit = yield* Effect.exit(node("setTimeout(() => {}, 60000)", "300 millis"))
      expect(Exit.isFailure(exit) && String(exit.cause)).toMatch(/did not finish within/)
      expect(Date.now() - started).toBeLessThan(10_000)
    }),
  )
})
