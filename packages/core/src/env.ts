import { ConfigProvider, Layer } from "effect"
import { findWorkspaceRoot, settingsFromEnv } from "./dotenv.ts"

export { findWorkspaceRoot } from "./dotenv.ts"

/**
 * Process environment first, then the root `.env` file, then each Config's default. RTOA_HOME
 * defaults to the workspace root so relative paths (data dir, embedded store) mean the same
 * thing whether a program is started by make, by `pnpm start` in a package, or by a test.
 */
export const configProviderFromEnv = (
  env: Record<string, string | undefined> = process.env,
  root: string = findWorkspaceRoot(),
): ConfigProvider.ConfigProvider => ConfigProvider.fromMap(new Map(settingsFromEnv(env, root)))

export const EnvConfigLive: Layer.Layer<never> = Layer.suspend(() =>
  Layer.setConfigProvider(configProviderFromEnv()),
)
