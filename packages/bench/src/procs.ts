import { NODE_FLAGS, type Proc, runCommand as runCommandIn, spawnLogged } from "@rtoa/core"
import { Data, Duration, Effect, type Scope } from "effect"

/**
 * Child processes for the scope's lifetime (the pattern of packages/chaos/src/procs.ts). Release
 * asks politely first (SIGTERM or SIGINT, so a processor drains and `--cpu-prof` writes its
 * profile), then SIGKILLs what is still alive; nothing the bench started outlives it.
 */

export class BenchError extends Data.TaggedError("BenchError")<{ readonly message: string }> {}

export type { Proc } from "@rtoa/core"

const start = (
  name: string,
  command: string,
  args: ReadonlyArray<string>,
  env: NodeJS.ProcessEnv,
  logFile: string,
): Effect.Effect<Proc, BenchError> =>
  Effect.try({
    try: () => spawnLogged(name, command, args, env, logFile),
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
