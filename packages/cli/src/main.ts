#!/usr/bin/env node
import { stripVTControlCharacters } from "node:util"
import { CliConfig, CommandDescriptor, HelpDoc, Span, Usage } from "@effect/cli"
import { NodeContext, NodeRuntime } from "@effect/platform-node"
import { EnvConfigLive } from "@rtoa/core"
import { Cause, Console, Effect, Exit, Option } from "effect"
import { rtoa } from "./commands.ts"
import { notes } from "./range-help.ts"

/**
 * `rtoa <command>`: @effect/cli parses and validates the options and lays out the help; this
 * edge prints errors as one `error: ...` line and picks the exit code (2: the command line).
 */

const argv = process.argv.slice(2)
const config = CliConfig.make({ showBuiltIns: false })

// @effect/cli's generic lines under each option: the descriptions say what each takes.
const generic =
  /^ {2}(A user-defined piece of text\.|A true or false value\.|This setting is optional\.)\n\n/gm

// A subcommand's usage starts with its own name: the program's goes first.
const helpText = (usage: Usage.Usage, help: HelpDoc.HelpDoc, prefix: string) =>
  `${stripVTControlCharacters(
    HelpDoc.toAnsiText(
      HelpDoc.sequence(
        HelpDoc.blocks([
          HelpDoc.h1("USAGE"),
          HelpDoc.p(Span.concat(Span.text(prefix), HelpDoc.getSpan(Usage.getHelp(usage)))),
        ]),
        HelpDoc.sequence(help, notes[commandName ?? ""] ?? HelpDoc.empty),
      ),
    ),
  )}\n\n`
    .replace(generic, "")
    .trimEnd()

const rootUsage = CommandDescriptor.getUsage(rtoa.descriptor)
// The command named on the command line, if any (help and exit codes depend on it).
const commandName = argv.find((a) => !a.startsWith("-"))

class CommandLineError extends Error {}

const command = CommandDescriptor.parse(rtoa.descriptor, ["rtoa", ...argv], config).pipe(
  // A mistyped flag reads as before ("Unknown option '--form'"), with @effect/cli's suggestion.
  Effect.mapError(
    (e) =>
      new CommandLineError(
        HelpDoc.toAnsiText(e.error)
          .trim()
          .replace(/^The flag '([^']+)' is not recognized\./, "Unknown option '$1'."),
      ),
  ),
  Effect.flatMap((directive) => {
    // --help never runs a command (before, `rtoa ddl --help` applied the migrations).
    if (directive._tag === "BuiltIn")
      return directive.option._tag === "ShowHelp"
        ? Console.log(
            helpText(
              directive.option.usage,
              directive.option.helpDoc,
              commandName === undefined ? "$ " : "$ rtoa ",
            ),
          )
        : Effect.fail(new CommandLineError(`not a command or option of rtoa: ${argv.join(" ")}`))
    const [extra] = directive.leftover
    if (extra !== undefined)
      return Effect.fail(
        new CommandLineError(
          extra.startsWith("-") ? `Unknown option '${extra}'` : `Unexpected argument '${extra}'`,
        ),
      )
    const run = rtoa.transform(rtoa.handler(directive.value), directive.value)
    // No command: the list of commands, and a failure (a script asked for nothing that exists).
    return Option.isNone(directive.value.subcommand)
      ? Effect.zipRight(
          Console.log(helpText(rootUsage, CommandDescriptor.getHelp(rtoa.descriptor, config), "$ ")),
          run,
        )
      : run
  }),
  Effect.provide(NodeContext.layer),
)

// An expected failure prints its message (it says what to do); a defect prints its whole cause.
const describe = (cause: Cause.Cause<unknown>) =>
  Option.match(Cause.failureOption(cause), {
    onNone: () => cause.toString(),
    onSome: (e) => (e instanceof Error ? e.message : String(e)),
  })

// A replay or rebuild stopped by Ctrl-C did not finish: say so to scripts (128 + SIGINT). For
// the other commands Ctrl-C is the normal way out (e.g. leaving chclient).
const interruptFails = commandName === "reprocess" || commandName === "rebuild-metrics"
const exitCode = (exit: Exit.Exit<unknown, unknown>): number => {
  if (Exit.isSuccess(exit)) return 0
  if (!Cause.isInterruptedOnly(exit.cause)) {
    const failure = Cause.failureOption(exit.cause)
    return Option.isSome(failure) && failure.value instanceof CommandLineError ? 2 : 1
  }
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
