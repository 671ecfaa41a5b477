import { type ChildProcess, spawn } from "node:child_process"
import * as fs from "node:fs"
import { runCommand as runCommandIn } from "@rtoa/core"
import { Data, Duration, Effect, type Scope } from "effect"

/**
 * Child processes for the scope's lifetime (the pattern of packages/chaos/src/procs.ts). Release
 * asks politely first (SIGTERM or SIGINT, so a processor drains and `--cpu-prof` writes its
 * profile), then SIGKILLs what is still alive; nothing the bench started outlives it.
 */

export class BenchError extends Data.TaggedError("BenchError")<{ readonly message: string }> {}

export interface Proc {
  readonly name: string
  readonly child: ChildProcess
  readonly pid: number
  readonly logFile: string
  /** Resolves with the exit code (or the signal name) when the process ends. */
  readonly exited: Promise<number | string>
}

export const NODE_FLAGS = ["--disable-warning=TimeoutNegativeWarning"] as const

const start = (
  name: string,
  command: string,
  args: ReadonlyArray<string>,
  env: NodeJS.ProcessEnv,
  logFile: string,
): Effect.Effect<Proc, BenchError> =>
  Effect.try({
    try: () => {
      const log = fs.openSync(logFile, "a")
      const child = spawn(command, [...args], { env, stdio: ["ignore", log, log] })
      fs.closeSync(log)
      if (child.pid === undefined) throw new Error(`could not start ${command}`)
      const exited = new Promise<number | string>((resolve) =>
        child.once("exit", (code, signal) => resolve(code ?? signal ?? "?")),
      )
      return { name, child, pid: child.pid, logFile, exited }
    },
    catch: (e) => new BenchError({ message: `${name}: ${e instanceof Error ? e.message : String(e)}` }),
  })

const alive = (p: Proc) => p.child.exitCode === null && p.child.signalCode === null

/** Signals the process and waits up to `grace` for it to end, then SIGKILLs it. */
export const stop = (
  p: Proc,
  signal: NodeJS.Signals = "SIGTERM",
  grace: Duration.DurationInput = "15 seconds",
) =>
  Effect.gen(function* () {
    if (!alive(p)) return
    p.child.kill(signal)
    const ended = yield* Effect.promise(() => p.exited).pipe(Effect.timeout(grace), Effect.option)
    if (ended._tag === "None" && alive(p)) {
      p.child.kill("SIGKILL")
      yield* Effect.promise(() => p.exited)
    }
  })

/** A process for the scope's lifetime; stopped with `signal` (then SIGKILL) on release. */
export const scopedProc = (
  name: string,
  command: string,
  args: ReadonlyArray<string>,
  env: NodeJS.ProcessEnv,
  logFile: string,
  signal: NodeJS.Signals = "SIGTERM",
): Effect.Effect<Proc, BenchError, Scope.Scope> =>
  Effect.acquireRelease(start(name, command, args, env, logFile), (p) => stop(p, signal))

/** `node [flags] script args` for the scope's lifetime. */
export const scopedNode = (
  name: string,
  script: string,
  args: ReadonlyArray<string>,
  env: NodeJS.ProcessEnv,
  logFile: string,
  nodeFlags: ReadonlyArray<string> = [],
  signal: NodeJS.Signals = "SIGTERM",
) => scopedProc(name, process.execPath, [...NODE_FLAGS, ...nodeFlags, script, ...args], env, logFile, signal)

export const waitExit = (p: Proc, timeout: Duration.DurationInput) =>
  Effect.promise(() => p.exited).pipe(
    Effect.timeoutFail({
      duration: timeout,
      onTimeout: () =>
        new BenchError({ message: `${p.name} did not finish within ${Duration.format(timeout)}` }),
    }),
  )

/** Runs a command to completion and returns its output; fails with the output on a non-zero exit. */
export const runCommand = (
  command: string,
  args: ReadonlyArray<string>,
  env: NodeJS.ProcessEnv,
  timeout: Duration.DurationInput = "5 minutes",
) =>
  runCommandIn(command, args, env, timeout).pipe(
    Effect.mapError((e) => new BenchError({ message: e.message })),
  )

export const runNode = (script: string, args: ReadonlyArray<string>, env: NodeJS.ProcessEnv) =>
  runCommand(process.execPath, [...NODE_FLAGS, script, ...args], env)
