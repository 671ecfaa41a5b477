import { defineConfig } from "vitest/config"
import { projects } from "./vitest.workspace.ts"

// The programs under test run on Node 24 (type stripping); a test on an older node would spawn them
// with that node and fail for the wrong reason. `make test` puts .tools/bin first on PATH.
const nodeMajor = Number(process.versions.node.split(".")[0])
if (nodeMajor < 24) {
  throw new Error(
    `tests need Node 24, this is ${process.version}: run \`make test\`, or put .tools/bin first on PATH`,
  )
}

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
