import * as fs from "node:fs"
import * as path from "node:path"
import { parseEnv } from "node:util"
import { ConfigProvider, Layer } from "effect"

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

/**
 * Process environment first, then the root `.env` file, then each Config's default. RTOA_HOME
 * defaults to the workspace root so relative paths (data dir, embedded store) mean the same
 * thing whether a program is started by make, by `pnpm start` in a package, or by a test.
 */
export const configProviderFromEnv = (
  env: Record<string, string | undefined> = process.env,
  root: string = findWorkspaceRoot(),
): ConfigProvider.ConfigProvider => {
  const file = path.join(root, ".env")
  const fromFile = fs.existsSync(file) ? parseEnv(fs.readFileSync(file, "utf8")) : {}
  const merged = new Map<string, string>([["RTOA_HOME", root]])
  for (const [k, v] of Object.entries(fromFile)) if (v !== undefined) merged.set(k, v)
  for (const [k, v] of Object.entries(env)) if (v !== undefined) merged.set(k, v)
  return ConfigProvider.fromMap(merged)
}

export const EnvConfigLive: Layer.Layer<never> = Layer.suspend(() =>
  Layer.setConfigProvider(configProviderFromEnv()),
)
