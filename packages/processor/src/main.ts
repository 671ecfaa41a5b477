import { NodeRuntime } from "@effect/platform-node"
import { EnvConfigLive } from "@rtoa/core"
import { Effect } from "effect"
import { processorProgram } from "./app.ts"

processorProgram.pipe(Effect.provide(EnvConfigLive), NodeRuntime.runMain)
