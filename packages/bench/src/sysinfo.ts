import { execFileSync } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import type { Machine } from "./results.ts"

/** Facts about the machine and the versions under test, for every result file. */

const readJson = (file: string): Record<string, unknown> => {
  try {
    return JSON.parse(fs.readFileSync(file, "utf8")) as Record<string, unknown>
  } catch {
    return {}
  }
}

const versionOf = (root: string, pkgDir: string) => {
  const v = readJson(path.join(root, "packages/bench/node_modules", pkgDir, "package.json")).version
  return typeof v === "string" ? v : "unknown"
}

/** `model name` of the first processor in /proc/cpuinfo. */
export const cpuModel = (cpuinfo: string): string =>
  /^model name\s*:\s*(.+)$/m.exec(cpuinfo)?.[1]?.trim() ?? "unknown"

export const machineFacts = (root: string): Machine => {
  const lib = path.join(root, "infra/kafka/target/lib")
  const kafkaJar = fs.existsSync(lib)
    ? fs.readdirSync(lib).find((f) => /^kafka_2\.\d+-.*\.jar$/.test(f))
    : undefined
  const chdbDir = fs.realpathSync(path.join(root, "packages/bench/node_modules/chdb"))
  const engine = fs
    .readdirSync(path.join(chdbDir, "../../.."))
    .find((d) => d.startsWith("@chdb+lib-"))
    ?.replace(/^@chdb\+lib-[^@]+@/, "")
  return {
    nproc: os.availableParallelism(),
    memTotalMb: Math.round(os.totalmem() / 1_048_576),
    cpuModel: cpuModel(fs.existsSync("/proc/cpuinfo") ? fs.readFileSync("/proc/cpuinfo", "utf8") : ""),
    kernel: `${os.type()} ${os.release()}`,
    node: process.version,
    kafka: kafkaJar?.replace(/^kafka_/, "").replace(/\.jar$/, "") ?? "unknown",
    chdb: versionOf(root, "chdb"),
    clickhouse: engine ?? "unknown",
    kafkajs: versionOf(root, "kafkajs"),
    platformaticKafka: versionOf(root, "@platformatic/kafka"),
    loadAvgAtStart: os.loadavg().map((l) => Math.round(l * 100) / 100),
  }
}

/** The checked-out commit, read from .git without running git. */
export const gitCommit = (root: string): string => {
  try {
    // git itself: a worktree's .git is a file, refs may be packed.
    return execFileSync("git", ["-C", root, "rev-parse", "HEAD"], { encoding: "utf8" }).trim()
  } catch {
    return "unknown"
  }
}
