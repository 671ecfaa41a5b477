import { type ChildProcess, spawn } from "node:child_process"
import * as fs from "node:fs"
import { Duration, Effect } from "effect"
import { CommandError } from "./errors.ts"

/** kafkajs 2.2.4 sets negative timeouts when idle; Node >= 23 warns each time (harmless). */
export const NODE_FLAGS = ["--disable-warning=TimeoutNegativeWarning"] as const

/** A child process started by a harness (chaos suite, benchmark), its output in `logFile`. */
export interface Proc {
  readonly name: string
  readonly child: ChildProcess
  readonly pid: number
  readonly logFile: string
  /** Resolves with the exit code (or the signal name) when the process ends. */
  readonly exited: Promise<number | string>
}

/** Starts `command args` with stdout and stderr appended to `logFile`; throws if it cannot start. */
export const spawnLogged = (
  name: string,
  command: string,
  args: ReadonlyArray<string>,
  env: NodeJS.ProcessEnv,
  logFile: string,
): Proc => {
  const log = fs.openSync(logFile, "a")
  const child = spawn(command, [...args], { env, stdio: ["ignore", log, log] })
  fs.closeSync(log)
  if (child.pid === undefined) throw new Error(`could not start ${command}`)
  const exited = new Promise<number | string>((resolve) =>
    child.once("exit", (code, signal) => resolve(code ?? signal ?? "?")),
  )
  return { name, child, pid: child.pid, logFile, exited }
}

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
