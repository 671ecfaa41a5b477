import { randomUUID } from "node:crypto"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { ConfigProvider, Layer } from "effect"

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
