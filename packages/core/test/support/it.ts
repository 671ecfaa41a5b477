import { execFile } from "node:child_process"
import { randomUUID } from "node:crypto"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { promisify } from "node:util"
import { ConfigProvider, type Duration, Effect, Layer, Schedule } from "effect"

/** A fresh name per test, so tests share one broker without seeing each other's data. */
export const uniqueName = (prefix: string) => `${prefix}-${randomUUID().slice(0, 8)}`

/** A fresh temporary directory for this test file's embedded store. */
export const tempDir = (prefix: string) => fs.mkdtempSync(path.join(os.tmpdir(), `rtoa-${prefix}-`))

export const brokers = process.env.KAFKA_BROKERS ?? "127.0.0.1:19092"

export const repoRoot = path.resolve(import.meta.dirname, "../../../..")

/** Config for a test: the shared broker, its own topics, group and data path. */
export const testConfig = (values: Record<string, string>) =>
  Layer.setConfigProvider(
    ConfigProvider.fromMap(
      new Map(Object.entries({ KAFKA_BROKERS: brokers, RTOA_HOME: repoRoot, ...values })),
    ),
  )

/** `node` with the flags the Makefile uses, for tests that start the programs as processes. */
export const nodeCommand = [process.execPath, "--disable-warning=TimeoutNegativeWarning"] as const

export const cliPath = path.join(repoRoot, "packages/cli/src/main.ts")

const execFileAsync = promisify(execFile)

/** Runs the CLI (`rtoa ...args`) to completion in `env`; resolves with its exit code and output. */
export const runCli = (env: NodeJS.ProcessEnv, ...args: Array<string>) =>
  execFileAsync(nodeCommand[0], [...nodeCommand.slice(1), cliPath, ...args], { env, cwd: repoRoot }).then(
    (r) => ({ code: 0, stdout: r.stdout, stderr: r.stderr }),
    (e: { code: number; stdout: string; stderr: string }) => ({
      code: e.code,
      stdout: e.stdout,
      stderr: e.stderr,
    }),
  )

/**
 * Reads `read` every 250 ms until `settled` holds, for at most `timeout`; then (or when it holds)
 * answers the last read, for the test to assert on. The sink writes a batch's raw rows before its
 * minute states, so a complete raw count can still miss the last batch's states.
 */
export const settledRead = <A, E, R>(
  read: Effect.Effect<A, E, R>,
  settled: (a: A) => boolean,
  timeout: Duration.DurationInput = "30 seconds",
) =>
  read.pipe(
    Effect.filterOrFail(settled, () => "not settled yet"),
    Effect.retry(Schedule.spaced("250 millis").pipe(Schedule.upTo(timeout))),
    Effect.orElse(() => read),
  )
