import { execFileSync, spawnSync } from "node:child_process"
import * as fs from "node:fs"
import * as path from "node:path"
import { repoRoot, tempDir } from "@rtoa/core/test/support/it.ts"
import { describe, expect, it } from "vitest"
import { settingsFromEnv } from "../../core/src/dotenv.ts"

/**
 * What reaches a shell, and what gets deleted: values users pass to make reach the programs
 * through the environment (never pasted into a command line), `make clean` needs its
 * confirmation on the command line, DATA_DIR is checked before rm -rf, and the environment wins
 * over .env for every entry point.
 */

const make = (args: ReadonlyArray<string>, env: NodeJS.ProcessEnv = process.env) =>
  spawnSync("make", ["--no-print-directory", "-s", ...args], { cwd: repoRoot, env, encoding: "utf8" })

describe("shell, config and data safety", () => {
  it("make passes FROM, TO, Q, LIMIT, RATE and ARGS through the environment, not into the command line", () => {
    const dry = (...args: Array<string>) => make(["-n", "-o", ".tools/setup.stamp", ...args]).stdout
    const reprocess = dry("reprocess", `FROM=x";id;"`, "TO=y")
    expect(reprocess).toContain('--from "$FROM" --to "$TO"')
    expect(reprocess).not.toContain(";id;")
    // biome-ignore lint/suspicious/noTemplateCurlyInString: the shell expansion make must print
    expect(dry("dlq", "LIMIT=1; id")).toContain('--limit "${LIMIT:-20}"')
    // biome-ignore lint/suspicious/noTemplateCurlyInString: the shell expansion make must print
    expect(dry("producer-high", "RATE=1; id")).toContain('--rate "${RATE:-200}"')
    expect(dry("chclient", "Q=SELECT 1; id")).toContain('chclient -q "$Q"')
    expect(dry("producer", "ARGS=--total 1; id")).not.toContain("; id")
  })

  it("a shell metacharacter in FROM stays data: the CLI gets it verbatim and refuses it as a time", () => {
    const marker = path.join(tempDir("inject"), "pwned")
    const r = make([
      "-o",
      ".tools/setup.stamp",
      "reprocess",
      `FROM=x"; touch ${marker}; "`,
      "TO=y",
      "DRY_RUN=1",
    ])
    expect(fs.existsSync(marker)).toBe(false)
    expect(r.status).not.toBe(0)
    expect(`${r.stdout}${r.stderr}`).toMatch(/--from/)
  }, 30_000)

  it("make clean takes CONFIRM from the command line only", () => {
    expect(make(["-n", "clean"], { ...process.env, CONFIRM: "1" }).stdout).toContain('CONFIRM=""')
    expect(make(["-n", "clean", "CONFIRM=1"]).stdout).toContain('CONFIRM="$CONFIRM"')
    const refused = spawnSync("bash", ["scripts/infra.sh", "clean"], {
      cwd: repoRoot,
      env: { ...process.env, CONFIRM: "" },
      encoding: "utf8",
    })
    expect(refused.status).toBe(1)
    expect(refused.stdout).toMatch(/Run: make clean CONFIRM=1/)
  })

  it("refuses to delete a DATA_DIR that is not this project's data directory", () => {
    const clean = (dataDir: string) =>
      spawnSync("bash", ["scripts/infra.sh", "clean"], {
        cwd: repoRoot,
        // An unused port: kafka.sh's stop finds no broker of its own there.
        env: {
          ...process.env,
          CONFIRM: "1",
          DATA_DIR: dataDir,
          INFRA_MODE: "local",
          KAFKA_BROKERS: "127.0.0.1:1",
        },
        encoding: "utf8",
      })
    for (const bad of ["/", "..", repoRoot, process.env.HOME ?? "/root", path.dirname(repoRoot)])
      expect(clean(bad).stderr, bad).toMatch(/refusing to delete/)
    const foreign = tempDir("foreign")
    fs.writeFileSync(path.join(foreign, "thesis.tex"), "mine")
    expect(clean(foreign).stderr).toMatch(/holds 'thesis.tex'.*refusing/)
    expect(fs.existsSync(path.join(foreign, "thesis.tex"))).toBe(true)
    const ours = tempDir("ours")
    fs.mkdirSync(path.join(ours, "chdb"))
    fs.writeFileSync(path.join(ours, "processor-http.token"), "t")
    const ok = clean(ours)
    expect(ok.status, ok.stderr).toBe(0)
    expect(fs.existsSync(ours)).toBe(false)
  })

  it("PROCESSOR_HTTP_PORT=... make ... : the environment wins over .env through make too", () => {
    // A checkout of our own (the Makefile, its .env, links to the code) so the test never touches
    // the repository's .env.
    const root = tempDir("make-env")
    for (const f of ["Makefile", "pnpm-workspace.yaml"])
      fs.copyFileSync(path.join(repoRoot, f), path.join(root, f))
    for (const d of ["packages", "scripts", "node_modules", ".tools", "db"])
      fs.symlinkSync(path.join(repoRoot, d), path.join(root, d))
    const fromFile = path.join(root, "store-from-dotenv")
    const fromEnv = path.join(root, "store-from-env")
    fs.writeFileSync(path.join(root, ".env"), `CLICKHOUSE_DATA_PATH=${fromFile}\n`)
    const r = spawnSync("make", ["-s", "-C", root, "-o", ".tools/setup.stamp", "ddl"], {
      env: { ...process.env, CLICKHOUSE_DATA_PATH: fromEnv, CLICKHOUSE_URL: "" },
      encoding: "utf8",
    })
    expect(r.status, r.stderr).toBe(0)
    expect(fs.existsSync(fromEnv)).toBe(true)
    expect(fs.existsSync(fromFile)).toBe(false)
  }, 60_000)

  it("the environment wins over .env, read by one parser for programs, scripts and make", () => {
    const root = tempDir("dotenv")
    fs.writeFileSync(
      path.join(root, ".env"),
      "PROCESSOR_HTTP_PORT=8124\nDATA_DIR='from file'\nQUOTED=\"a b\" # c\n",
    )
    const settings = settingsFromEnv({ PROCESSOR_HTTP_PORT: "8999" }, root)
    expect(settings.get("PROCESSOR_HTTP_PORT")).toBe("8999")
    expect(settings.get("DATA_DIR")).toBe("from file")
    expect(settings.get("QUOTED")).toBe("a b")
    expect(settings.get("RTOA_HOME")).toBe(root)
    // The shell side prints the same, quoted for eval.
    const script = path.join(repoRoot, "scripts/env.ts")
    const printed = execFileSync(process.execPath, [script, "PROCESSOR_HTTP_PORT", "DATA_DIR", "MISSING"], {
      cwd: root,
      env: { ...process.env, PROCESSOR_HTTP_PORT: "8999", DATA_DIR: "it's here" },
      encoding: "utf8",
    })
    expect(printed).toBe("PROCESSOR_HTTP_PORT='8999'\nDATA_DIR='it'\\''s here'\n")
  })
})
