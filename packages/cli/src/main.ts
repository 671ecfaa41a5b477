#!/usr/bin/env node
import { parseArgs } from "node:util"
import { NodeRuntime } from "@effect/platform-node"
import { EnvConfigLive, KafkaClientLive } from "@rtoa/core"
import { Console, Effect } from "effect"
import { chclientInteractive, chclientOnce } from "./chclient.ts"
import { ddlCommand } from "./ddl.ts"
import { dlqCommand } from "./dlq.ts"

const usage = `usage: rtoa <command> [options]

commands:
  ddl                       apply db/*.sql migrations (idempotent)
  chclient [-q SQL] [-f F]  SQL shell (read-only); -q runs one statement and prints it in format F
  dlq [--limit N]           show the newest dead letters (default 20)
`

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: {
    query: { type: "string", short: "q" },
    format: { type: "string", short: "f" },
    limit: { type: "string" },
    help: { type: "boolean", short: "h" },
  },
})

const command = (() => {
  switch (positionals[0]) {
    case "ddl":
      return ddlCommand
    case "chclient":
      return values.query !== undefined && values.query.trim() !== ""
        ? chclientOnce(values.query, values.format)
        : chclientInteractive
    case "dlq": {
      const limit = Number(values.limit ?? "20")
      if (!Number.isInteger(limit) || limit <= 0)
        return Effect.fail(new Error("--limit: expected a positive integer"))
      return dlqCommand(limit).pipe(Effect.provide(KafkaClientLive))
    }
    default:
      return Console.log(usage).pipe(
        Effect.zipRight(values.help === true ? Effect.void : Effect.fail(new Error("unknown command"))),
      )
  }
})()

command.pipe(
  Effect.tapErrorCause((cause) => Console.error(`error: ${cause.toString()}`)),
  Effect.provide(EnvConfigLive),
  NodeRuntime.runMain({ disableErrorReporting: true }),
)
