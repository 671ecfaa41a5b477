import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { type BrowserContext, chromium } from "playwright-core"

/**
 * Debian's chromium driven by playwright-core: no browser download, the one `make setup` installs
 * in CI (apt-get install chromium). The integration tests' global setup fails when it is missing.
 */
export const CHROMIUM = "/usr/bin/chromium"

export const CHROMIUM_ARGS: ReadonlyArray<string> = [
  "--headless=new",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
]

export interface Browser {
  readonly context: BrowserContext
  /** Closes the browser and removes its profile. */
  readonly close: () => Promise<void>
}

/** A headless chromium on a fresh profile (its own --user-data-dir), 1440x900. */
export const launchChromium = async (): Promise<Browser> => {
  const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), "rtoa-chromium-"))
  // playwright passes the profile as --user-data-dir (it refuses one among `args`).
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    args: [...CHROMIUM_ARGS],
    headless: true,
    viewport: { width: 1440, height: 900 },
    locale: "zh-TW",
    timezoneId: "Asia/Taipei",
  })
  return {
    context,
    close: async () => {
      await context.close()
      fs.rmSync(userDataDir, { recursive: true, force: true })
    },
  }
}
