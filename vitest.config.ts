import { defineConfig } from "vitest/config"
import { projects } from "./vitest.workspace.ts"

export default defineConfig({
  test: {
    projects,
    pool: "forks",
    // Two cores: two test files at a time. kafkajs 2.2.4 calls setTimeout with a negative delay
    // when idle; Node >= 23 warns on every call (harmless), burying real output.
    poolOptions: {
      forks: { maxForks: 2, minForks: 1, execArgv: ["--disable-warning=TimeoutNegativeWarning"] },
    },
    reporters: ["default"],
  },
})
