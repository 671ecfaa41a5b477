import { type ChildProcess, spawn } from "node:child_process"
import * as fs from "node:fs"
import * as path from "node:path"
import { cliPath, repoRoot, runCli, tempDir } from "@rtoa/core/test/support/it.ts"
import { afterAll, describe, expect, it } from "vitest"

const env = {
  ...process.env,
  CLICKHOUSE_DATA_PATH: path.join(tempDir("cli"), "chdb"),
  // No processor listens here, so the CLI opens the embedded store itself.
  PROCESSOR_HTTP_PORT: String(20_000 + Math.floor(Math.random() * 20_000)),
}
const rtoa = (...args: Array<string>) => runCli(env, ...args)

const children: Array<ChildProcess> = []
afterAll(() => {
  for (const c of children) c.kill("SIGKILL")
})

describe("rtoa ddl / chclient on the embedded store", () => {
  it("refuses to migrate a store another process holds, changing nothing, then migrates once", async () => {
    // An interactive chclient holds the store open while it waits for input.
    const holder = spawn(process.execPath, [cliPath, "chclient"], {
      env,
      cwd: repoRoot,
      stdio: ["pipe", "pipe", "pipe"],
    })
    children.push(holder)
    await new Promise<void>((resolve, reject) => {
      holder.stdout?.on("data", (d: Buffer) => d.toString().includes("Connected") && resolve())
      let err = ""
      holder.stderr?.on("data", (d: Buffer) => {
        err += d.toString()
      })
      holder.once("exit", (code) => reject(new Error(`holder exited early (${code}): ${err}`)))
    })

    const locked = await rtoa("ddl")
    expect(locked.code).not.toBe(0)
    expect(locked.stderr).toMatch(/is in use by process \d+/)
    expect(locked.stderr).toMatch(/Nothing was changed/)

    // The holder can still read, and sees no tables: the refused run changed nothing.
    holder.stdin?.write("SELECT count() AS tables FROM system.tables WHERE database = 'default';\nexit\n")
    const out = await new Promise<string>((resolve) => {
      let text = ""
      holder.stdout?.on("data", (d: Buffer) => {
        text += d.toString()
      })
      holder.once("exit", () => resolve(text))
    })
    expect(out).toMatch(/│\s+0\s+│/)

    const first = await rtoa("ddl")
    expect(first.code).toBe(0)
    // Every migration in db/, once.
    const migrations = fs.readdirSync(path.join(repoRoot, "db")).filter((f) => /^\d+_.*\.sql$/.test(f)).length
    expect(first.stdout).toMatch(new RegExp(`${migrations} applied, 0 already current`))
    const second = await rtoa("ddl")
    expect(second.stdout).toMatch(new RegExp(`0 applied, ${migrations} already current`))

    const tables = await rtoa("chclient", "-q", "SHOW TABLES", "-f", "TSV")
    expect(tables.stdout.trim().split("\n")).toEqual(
      expect.arrayContaining([
        "metrics_minutely",
        "metrics_minutely_input",
        "raw_events",
        "schema_migrations",
      ]),
    )
    const write = await rtoa("chclient", "-q", "DROP TABLE raw_events")
    expect(write.code).not.toBe(0)
    expect(write.stderr).toMatch(/readonly/i)
  })
})
