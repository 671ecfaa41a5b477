import type { TestProjectConfiguration } from "vitest/config"

/**
 * The test projects (the design card's workspace file). vitest 3.2 reads them through
 * `test.projects` in vitest.config.ts; the standalone workspace file is deprecated there.
 *   unit:        layer-swapped tests, no infrastructure, *.test.ts
 *   integration: the real local Kafka broker and embedded ClickHouse, *.it.test.ts
 */
export const projects: Array<TestProjectConfiguration> = [
  {
    test: {
      name: "unit",
      include: ["packages/*/test/**/*.test.ts"],
      exclude: ["packages/*/test/**/*.it.test.ts", "**/node_modules/**"],
    },
  },
  {
    test: {
      name: "integration",
      include: ["packages/*/test/**/*.it.test.ts"],
      globalSetup: ["packages/core/test/support/broker-setup.ts"],
      testTimeout: 120_000,
      hookTimeout: 120_000,
      // Each file opens its own embedded engine (one per process), so files run in forks.
      pool: "forks",
    },
  },
]

export default projects
