import { NODE_FLAGS, type Proc, runCommand as runCommandIn, spawnLogged } from "@rtoa/core"
import { Data, Effect, type Scope } from "effect"

export type { Proc } from "@rtoa/core"

export class ChaosError extends Data.TaggedError("ChaosError")<{ readonly message: string }> {}

/** Starts `node <script> ...args` with its output appended to `logFile`. */
export const startNode = (
  name: string,
  script: string,
  args: ReadonlyArray<string>,
  env: NodeJS.ProcessEnv,
  logFile: string,
): Proc => spawnLogged(name, process.execPath, [...NODE_FLAGS, script, ...args], env, logFile)

/** A process for the scope's lifetime: SIGKILLed on release if still running. */
export const scopedNode = (
  name: string,
  script: string,
  args: ReadonlyArray<string>,
  env: NodeJS.ProcessEnv,
  logFile: string,
): Effect.Effect<Proc, never, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.sync(() => startNode(name, script, args, env, logFile)),
    (p) => Effect.sync(() => p.child.exitCode === null && p.child.kill("SIGKILL")),
  )

export const waitExit = (p: Proc) => Effect.promise(() => p.exited)

/** Runs a command to completion; fails with its output when it exits non-zero. */
export const runCommand = (command: string, args: ReadonlyArray<string>, env: NodeJS.ProcessEnv) =>
  runCommandIn(command, args, env).pipe(Effect.mapError((e) => new ChaosError({ message: e.message })))

export const runNode = (script: string, args: ReadonlyArray<string>, env: NodeJS.ProcessEnv) =>
  runCommand(process.execPath, [...NODE_FLAGS, script, ...args], env)
