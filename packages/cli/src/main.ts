#!/usr/bin/env node
import { parseArgs } from "node:util"
import { NodeRuntime } from "@effect/platform-node"
import { EnvConfigLive, KafkaClientLive } from "@rtoa/core"
import { Cause, Console, Effect, Exit, Option } from "effect"
import { chclientInteractive, chclientOnce } from "./chclient.ts"
import { consoleUrlCommand } from "./console-url.ts"
import { ddlCommand } from "./ddl.ts"
import { dlqCommand } from "./dlq.ts"

const usage = `usage: rtoa <command> [options]

commands:
  ddl                       apply db/*.sql migrations (idempotent; CLICKHOUSE_CLUSTER: db/cluster/*.sql)
  chclient [-q SQL] [-f F]  SQL shell (read-only); -q runs one statement and prints it in format F
  dlq [--limit N]           show the newest dead letters (default 20)
  console-url               print the operators' console sign-in link (holds the endpoint's token)
  reprocess --from FROM --to TO [--dry-run]
                            replay the topic's records of [FROM, TO) through the processor's stages
  rebuild-metrics --from FROM --to TO [--dry-run]
                            recompute metrics_minutely for those minutes from raw_events FINAL
  <command> --help          more about reprocess and rebuild-metrics
`

const parsed = (() => {
  try {
    return parseArgs({
      allowPositionals: true,
      options: {
        query: { type: "string", short: "q" },
        format: { type: "string", short: "f" },
        limit: { type: "string" },
        from: { type: "string" },
        to: { type: "string" },
        "dry-run": { type: "boolean" },
        help: { type: "boolean", short: "h" },
      },
    })
  } catch (e) {
    process.stderr.write(`error: ${(e as Error).message}\n\n${usage}`)
    process.exit(2)
  }
})()
const { positionals, values } = parsed

const range = { from: values.from, to: values.to, dryRun: values["dry-run"] === true }

// Loaded only for its commands: the reprocessor and the pipeline cost about 0.2 s of start-up
// (measured on a busy 2-core box) that the other commands should not pay.
const reprocessor = Effect.promise(() => import("@rtoa/reprocessor"))

const command = (() => {
  // --help never runs a command (before, `rtoa ddl --help` applied the migrations).
  if (values.help === true && positionals[0] !== "reprocess" && positionals[0] !== "rebuild-metrics")
    return Console.log(usage)
  switch (positionals[0]) {
    case "ddl":
      return ddlCommand
    case "chclient":
      return values.query !== undefined && values.query.trim() !== ""
        ? chclientOnce(values.query, values.format)
        : chclientInteractive
    case "console-url":
      return consoleUrlCommand
    case "dlq": {
      const limit = Number(values.limit ?? "20")
      if (!Number.isInteger(limit) || limit <= 0)
        return Effect.fail(new Error("--limit: expected a positive integer"))
      return dlqCommand(limit).pipe(Effect.provide(KafkaClientLive))
    }
    case "reprocess":
      return Effect.flatMap(reprocessor, (r) =>
        values.help === true ? Console.log(r.reprocessHelp) : r.reprocessCommand(range),
      )
    case "rebuild-metrics":
      return Effect.flatMap(reprocessor, (r) =>
        values.help === true ? Console.log(r.rebuildMetricsHelp) : r.rebuildMetricsCommand(range),
      )
    default:
      return Console.log(usage).pipe(
        Effect.zipRight(values.help === true ? Effect.void : Effect.fail(new Error("unknown command"))),
      )
  }
})()

// An expected failure prints its message (it says what to do); a defect prints its whole cause.
const describe = (cause: Cause.Cause<unknown>) =>
  Option.match(Cause.failureOption(cause), {
    onNone: () => cause.toString(),
    onSome: (e) => (e instanceof Error ? e.message : String(e)),
  })

// A replay or rebuild stopped by Ctrl-C did not finish: say so to scripts (128 + SIGINT). For
// the other commands Ctrl-C is the normal way out (e.g. leaving chclient).
const interruptFails = positionals[0] === "reprocess" || positionals[0] === "rebuild-metrics"
const exitCode = (exit: Exit.Exit<unknown, unknown>): number => {
  if (Exit.isSuccess(exit)) return 0
  if (!Cause.isInterruptedOnly(exit.cause)) return 1
  return interruptFails ? 130 : 0
}

command.pipe(
  Effect.tapErrorCause((cause) =>
    Cause.isInterruptedOnly(cause) ? Effect.void : Console.error(`error: ${describe(cause)}`),
  ),
  Effect.provide(EnvConfigLive),
  NodeRuntime.runMain({
    disableErrorReporting: true,
    teardown: (exit, onExit) => onExit(exitCode(exit)),
  }),
)
