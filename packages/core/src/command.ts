import { spawn } from "node:child_process"
import { Duration, Effect } from "effect"
import { CommandError } from "./errors.ts"

/**
 * Runs a command to completion and returns its output (stdout and stderr interleaved); fails
 * with that output on a non-zero exit or after `timeout`. Interruption kills the child, so a
 * harness stopped with Ctrl-C leaves nothing behind. Used by the chaos suite and the benchmark.
 */
export const runCommand = (
  command: string,
  args: ReadonlyArray<string>,
  env: NodeJS.ProcessEnv,
  timeout: Duration.DurationInput = "5 minutes",
): Effect.Effect<string, CommandError> =>
  Effect.async<string, CommandError>((resume) => {
    const child = spawn(command, [...args], { env, stdio: ["ignore", "pipe", "pipe"] })
    let out = ""
    child.stdout.on("data", (d: Buffer) => {
      out += d.toString()
    })
    child.stderr.on("data", (d: Buffer) => {
      out += d.toString()
    })
    child.once("error", (e) => resume(Effect.fail(new CommandError({ message: `${command}: ${e.message}` }))))
    child.once("exit", (code) =>
      resume(
        code === 0
          ? Effect.succeed(out)
          : Effect.fail(
              new CommandError({ message: `${command} ${args.join(" ")} exited ${code}:\n${out}` }),
            ),
      ),
    )
    return Effect.sync(() => {
      if (child.exitCode === null) child.kill("SIGKILL")
    })
  }).pipe(
    Effect.timeoutFail({
      duration: timeout,
      onTimeout: () =>
        new CommandError({ message: `${command} did not finish within ${Duration.format(timeout)}` }),
    }),
  )
