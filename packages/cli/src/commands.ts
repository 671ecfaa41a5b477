import { Command, HelpDoc, Options, ValidationError } from "@effect/cli"
import { KafkaClientLive } from "@rtoa/core"
import { Effect, Option } from "effect"
import { chclientInteractive, chclientOnce } from "./chclient.ts"
import { consoleUrlCommand } from "./console-url.ts"
import { ddlCommand } from "./ddl.ts"
import { dlqCommand } from "./dlq.ts"

/** The `rtoa` commands, their options and help (@effect/cli); main.ts parses and runs them. */

// Loaded only for its commands: the reprocessor and the pipeline cost about 0.2 s of start-up
// (measured on a busy 2-core box) that the other commands should not pay.
const reprocessor = Effect.promise(() => import("@rtoa/reprocessor"))

const ddl = Command.make("ddl", {}, () => ddlCommand).pipe(
  Command.withDescription("apply db/*.sql migrations (idempotent; CLICKHOUSE_CLUSTER: db/cluster/*.sql)"),
)

const optionalText = (name: string, alias: string, pseudo: string, description: string) =>
  Options.text(name).pipe(
    Options.withAlias(alias),
    Options.withPseudoName(pseudo),
    Options.withDescription(description),
    Options.optional,
  )

const chclient = Command.make(
  "chclient",
  {
    query: optionalText(
      "query",
      "q",
      "SQL",
      "run one statement and print it (without -q: an interactive shell)",
    ),
    format: optionalText(
      "format",
      "f",
      "F",
      "the output format of -q (a ClickHouse format, default PrettyCompactMonoBlock)",
    ),
  },
  ({ query, format }) =>
    Option.match(
      Option.filter(query, (q) => q.trim() !== ""),
      {
        onNone: () => chclientInteractive,
        onSome: (q) => chclientOnce(q, Option.getOrUndefined(format)),
      },
    ),
).pipe(Command.withDescription("SQL shell (read-only); -q runs one statement and prints it in format F"))

const dlq = Command.make(
  "dlq",
  {
    limit: Options.text("limit").pipe(
      Options.withPseudoName("N"),
      Options.withDescription("how many of the newest dead letters (default 20)"),
      Options.withDefault("20"),
      Options.mapEffect((raw) => {
        const limit = Number(raw)
        return Number.isInteger(limit) && limit > 0 && raw.trim() !== ""
          ? Effect.succeed(limit)
          : Effect.fail(
              ValidationError.invalidValue(HelpDoc.p(`--limit: expected a positive integer, got "${raw}"`)),
            )
      }),
    ),
  },
  ({ limit }) => dlqCommand(limit).pipe(Effect.provide(KafkaClientLive)),
).pipe(Command.withDescription("show the newest dead letters (default 20)"))

const consoleUrl = Command.make("console-url", {}, () => consoleUrlCommand).pipe(
  Command.withDescription("print the operators' console sign-in link (holds the endpoint's token)"),
)

/** --from, --to, --dry-run; the times are checked by the command (it names the flag and the forms). */
const rangeOptions = (from: string, to: string, dryRun: string) => ({
  from: Options.text("from").pipe(Options.withPseudoName("<time>"), Options.withDescription(from)),
  to: Options.text("to").pipe(Options.withPseudoName("<time>"), Options.withDescription(to)),
  dryRun: Options.boolean("dry-run").pipe(Options.withDescription(dryRun)),
})

const reprocess = Command.make(
  "reprocess",
  rangeOptions(
    "start of the range (inclusive)",
    "end of the range (exclusive)",
    "print per partition the start/end offsets and record counts, and the totals; read no record and write nothing (needs no ClickHouse)",
  ),
  (o) => Effect.flatMap(reprocessor, (r) => r.reprocessCommand(o)),
).pipe(Command.withDescription("replay the topic's records of [FROM, TO) through the processor's stages"))

const rebuildMetrics = Command.make(
  "rebuild-metrics",
  rangeOptions(
    "start of the range (inclusive; rounded down to the minute)",
    "end of the range (exclusive; rounded up to the minute)",
    "print the metrics before and what they would become; change nothing",
  ),
  (o) => Effect.flatMap(reprocessor, (r) => r.rebuildMetricsCommand(o)),
).pipe(Command.withDescription("recompute metrics_minutely for those minutes from raw_events FINAL"))

export const rtoa = Command.make("rtoa", {}, () => Effect.fail(new Error("unknown command"))).pipe(
  Command.withDescription("Operator commands (<command> --help: more about each)."),
  Command.withSubcommands([ddl, chclient, dlq, consoleUrl, reprocess, rebuildMetrics]),
)
