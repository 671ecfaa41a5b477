import { CliConfig, Command, HelpDoc, Options, ValidationError } from "@effect/cli"
import * as Descriptor from "@effect/cli/CommandDescriptor"
import { NodeContext, NodeRuntime } from "@effect/platform-node"
import { Cause, Effect, Either, Exit, Option } from "effect"
import { collidesWithOthers } from "./session.ts"

/** Command-line options of `node packages/bench/src/main.ts` (and `make bench`), with @effect/cli. */

const about = `Benchmarks the processor end to end on its own Kafka broker (127.0.0.1:19292 by default) and writes
bench/results/<stamp>.json, .svg and .md. Every process it starts is stopped when it ends. The research
runs (raw-client shoot-out, CPU profile, live max-rate search, ProducerPerformance) are in
packages/bench/experiments (see its README).`

export interface BenchOptions {
  readonly rates: ReadonlyArray<number>
  readonly durationS: number
  readonly warmupS: number
  readonly drainEvents: number
  readonly peer: boolean
  /** Peer profiles to run: the Kafka engine at its defaults and/or tuned for latency. */
  readonly peerProfiles: ReadonlyArray<"default" | "tuned">
  readonly quick: boolean
  readonly drainOnly: boolean
  /** Simulated dashboards open in the console runs (0: no console steps). */
  readonly dashboards: number
  /** Scale-out runs: members per run on a 12-partition backlog (empty: not run). */
  readonly scaleMembers: ReadonlyArray<number>
  /** Hours synthesized for the console's panel queries (0: not run). */
  readonly consoleHours: number
  readonly brokerPort: number
  readonly httpPort: number
  readonly outDir: string
}

const invalid = (message: string) => ValidationError.invalidValue(HelpDoc.p(message))

/** A comma-separated list of positive integers, each at most `max`. */
const integerList = (flag: string, raw: string, max = Number.MAX_SAFE_INTEGER) => {
  const parsed = raw.split(",").map((r) => r.trim())
  return parsed.every((r) => /^\d+$/.test(r) && Number(r) > 0 && Number(r) <= max)
    ? Effect.succeed(parsed.map(Number))
    : Effect.fail(
        invalid(
          `--${flag}: expected comma-separated ${max === Number.MAX_SAFE_INTEGER ? "positive integers" : `integers 1-${max}`}, got "${raw}"`,
        ),
      )
}

/** An optional positive integer (its default depends on --quick, so it is resolved later). */
const positive = (flag: string, pseudo: string, help: string) =>
  Options.integer(flag).pipe(
    Options.withPseudoName(pseudo),
    Options.withDescription(help),
    Options.mapEffect((n) =>
      n > 0 ? Effect.succeed(n) : Effect.fail(invalid(`--${flag}: expected a positive integer, got "${n}"`)),
    ),
    Options.optional,
  )

const flag = (name: string, help: string) => Options.boolean(name).pipe(Options.withDescription(help))

const raw = Options.all({
  rates: Options.text("rates").pipe(
    Options.withPseudoName("LIST"),
    Options.withDescription("fixed rates in events/s, comma-separated [default 100,1000,10000]"),
    Options.mapEffect((r) => integerList("rates", r)),
    Options.optional,
  ),
  duration: positive("duration", "S", "measured seconds per fixed-rate run [default 30]"),
  warmup: positive("warmup", "S", "seconds produced before the measured window [default 5]"),
  drainEvents: positive(
    "drain-events",
    "N",
    "events in the backlog of the throughput test [default 1000000]",
  ),
  skipPeer: flag("skip-peer", "do not run ClickHouse's Kafka engine as the peer"),
  skipSearch: flag(
    "skip-search",
    "accepted for earlier command lines: the live max-rate search is now packages/bench/experiments/live-search.ts",
  ),
  skipProfile: flag(
    "skip-profile",
    "accepted for earlier command lines: the CPU profile is now packages/bench/experiments/cpu-profile.ts",
  ),
  skipConsole: flag(
    "skip-console",
    "do not measure the operators' console: no A/B runs with 2 simulated dashboards closed and open in turns (at the rates >= 1000/s and the drain) and no panel queries on a synthesized day",
  ),
  consoleHours: positive(
    "console-hours",
    "H",
    "hours of data (at 1,000 events/s) the panel queries run on [default 24]",
  ),
  drainOnly: flag(
    "drain-only",
    "only the backlog drain of each system (and the drain with dashboards unless --skip-console): for quick A/B experiments",
  ),
  scaleOut: flag(
    "scale-out",
    "scale-out: a 12-partition backlog of --drain-events drained by the processor with PROCESSOR_CONSUMERS = each of --scale-members (in the default run; with --quick or --drain-only only when asked)",
  ),
  skipScaleOut: flag("skip-scale-out", "no scale-out step"),
  scaleMembers: Options.text("scale-members").pipe(
    Options.withPseudoName("L"),
    Options.withDescription("consumer-group members per scale-out run, comma-separated [default 1,2,4]"),
    Options.mapEffect((r) => integerList("scale-members", r, 12)),
    Options.optional,
  ),
  quick: flag(
    "quick",
    "a smoke run in about 3 minutes (rates 100,1000 for 6 s, 100k backlog, tuned peer only, 2 h for the panel queries)",
  ),
  brokerPort: positive(
    "broker-port",
    "P",
    "port of the benchmark's own broker (controller P+1) [default 19292]",
  ),
  httpPort: positive("http-port", "P", "first of two HTTP ports (processor, peer) [default 18391]"),
  out: Options.text("out").pipe(
    Options.withPseudoName("DIR"),
    Options.withDescription("where results go [default bench/results]"),
    Options.withDefault("bench/results"),
  ),
})

/** The flags resolved into options: --quick's defaults, cross-flag checks. */
export const benchOptions: Options.Options<BenchOptions> = raw.pipe(
  Options.mapEffect((v) => {
    const or = <A>(o: Option.Option<A>, quickValue: A, fullValue: A) =>
      Option.getOrElse(o, () => (v.quick ? quickValue : fullValue))
    if (v.scaleOut && v.skipScaleOut)
      return Effect.fail(invalid("--scale-out and --skip-scale-out contradict each other"))
    const brokerPort = or(v.brokerPort, 19_292, 19_292)
    if (collidesWithOthers(brokerPort))
      return Effect.fail(
        invalid(`--broker-port: ${brokerPort} collides with a broker other people use; pick another`),
      )
    const consoleHours = or(v.consoleHours, 2, 24)
    if (consoleHours > 168)
      return Effect.fail(invalid(`--console-hours: at most 168 (a week), got ${consoleHours}`))
    const scaleOut = v.scaleOut || (!v.quick && !v.drainOnly && !v.skipScaleOut)
    const peer = !v.skipPeer
    return Effect.succeed({
      rates: or(v.rates, [100, 1_000], [100, 1_000, 10_000]),
      durationS: or(v.duration, 6, 30),
      warmupS: or(v.warmup, 2, 5),
      drainEvents: or(v.drainEvents, 100_000, 1_000_000),
      peer,
      peerProfiles: !peer ? [] : v.quick ? ["tuned"] : ["default", "tuned"],
      quick: v.quick,
      drainOnly: v.drainOnly,
      // The issue's "two dashboards open".
      dashboards: v.skipConsole ? 0 : 2,
      scaleMembers: scaleOut ? Option.getOrElse(v.scaleMembers, () => [1, 2, 4]) : [],
      consoleHours: v.skipConsole || v.drainOnly ? 0 : consoleHours,
      brokerPort,
      httpPort: or(v.httpPort, 18_391, 18_391),
      outDir: v.out,
    } satisfies BenchOptions)
  }),
)

/** The `bench` command running `run` with the parsed options. */
export const benchCommand = <E, R>(run: (options: BenchOptions) => Effect.Effect<void, E, R>) =>
  Command.make("bench", { options: benchOptions }, ({ options }) => run(options)).pipe(
    Command.withDescription(about),
  )

export type Parsed =
  | { readonly _tag: "Run"; readonly options: BenchOptions }
  | { readonly _tag: "Help" }
  | { readonly _tag: "Invalid"; readonly message: string }

/** Parses `argv` (without node and the script) the way `Command.run` does, without running it. */
export const parseOptions = (argv: ReadonlyArray<string>): Parsed => {
  const command = benchCommand(() => Effect.void)
  const exit = Effect.runSyncExit(
    Descriptor.parse(command.descriptor, ["bench", ...argv], CliConfig.defaultConfig).pipe(
      Effect.either,
      Effect.provide(NodeContext.layer),
    ),
  )
  if (Exit.isFailure(exit)) return { _tag: "Invalid", message: Cause.pretty(exit.cause) }
  const parsed = exit.value
  if (Either.isLeft(parsed)) return { _tag: "Invalid", message: HelpDoc.toAnsiText(parsed.left.error) }
  const directive = parsed.right
  if (directive._tag === "BuiltIn") return { _tag: "Help" }
  if (directive.leftover.length > 0)
    return { _tag: "Invalid", message: `unexpected arguments: ${directive.leftover.join(" ")}` }
  return { _tag: "Run", options: directive.value.options }
}

/** Runs a command on this process's arguments; a bad flag (@effect/cli printed which) exits 2. */
export const launch = <Name extends string, E, A>(command: Command.Command<Name, never, E, A>, name: Name) =>
  Command.run(command, { name, version: "1" })(process.argv).pipe(
    Effect.catchIf(ValidationError.isValidationError, () =>
      Effect.sync(() => {
        process.exitCode = 2
      }),
    ),
    // Help lists the bench's own flags only (not @effect/cli's --wizard, --completions...).
    Effect.provide([NodeContext.layer, CliConfig.layer({ showBuiltIns: false })]),
    NodeRuntime.runMain,
  )
