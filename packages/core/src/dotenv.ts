import * as fs from "node:fs"
import * as path from "node:path"
import { parseEnv } from "node:util"

/**
 * The one reader of `.env` for every entry point: the programs (through env.ts's ConfigProvider),
 * and the shell scripts and the Makefile (through scripts/env.ts). The process environment
 * always wins over the file, as .env_template promises; RTOA_HOME is the workspace root unless set.
 * No effect imports here: scripts/env.ts loads this file alone, so a shell lookup costs ~50 ms.
 */

/** The workspace root: the nearest directory above `from` holding pnpm-workspace.yaml. */
export const findWorkspaceRoot = (from: string = process.cwd()): string => {
  let dir = path.resolve(from)
  for (;;) {
    if (fs.existsSync(path.join(dir, "pnpm-workspace.yaml"))) return dir
    const parent = path.dirname(dir)
    if (parent === dir) return path.resolve(from)
    dir = parent
  }
}

/** `.env` at `root` as parsed by Node's own parser (empty when there is none). */
const readDotenv = (root: string): Readonly<Record<string, string>> => {
  const file = path.join(root, ".env")
  if (!fs.existsSync(file)) return {}
  const parsed = parseEnv(fs.readFileSync(file, "utf8"))
  const out: Record<string, string> = {}
  for (const [k, v] of Object.entries(parsed)) if (v !== undefined) out[k] = v
  return out
}

/** The settings a program sees: RTOA_HOME, then `.env`, then the environment (which wins). */
export const settingsFromEnv = (
  env: Readonly<Record<string, string | undefined>> = process.env,
  root: string = findWorkspaceRoot(),
): ReadonlyMap<string, string> => {
  const merged = new Map<string, string>([["RTOA_HOME", root]])
  for (const [k, v] of Object.entries(readDotenv(root))) merged.set(k, v)
  for (const [k, v] of Object.entries(env)) if (v !== undefined) merged.set(k, v)
  return merged
}
