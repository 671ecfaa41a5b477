import * as path from "node:path"
import { stripVTControlCharacters } from "node:util"
import { CliConfig, Command, CommandDescriptor, HelpDoc, Options, ValidationError } from "@effect/cli"
import { NodeContext } from "@effect/platform-node"
import { type KafkaCompression, kafkaCompressions, type ProducerConfig } from "@rtoa/core"
import { Effect, Either, Option } from "effect"

/**
 * Command-line flags (@effect/cli). Each overrides the matching PRODUCER_* setting; a bad value is
 * refused with the flag's name and the accepted form, before anything connects.
 */

/** Flag values; absent flags leave the configured value in place. */
export interface Flags {
  readonly rate?: number
  readonly total?: number
  readonly users?: number
  readonly duplicateRatio?: number
  readonly malformedRatio?: number
  readonly poisonRatio?: number
  readonly seed?: number
  readonly compression?: KafkaCompression
  readonly lateRatio?: number
  readonly truthFile?: string
}

export type ParsedArgs =
  | { readonly _tag: "Run"; readonly flags: Flags }
  | { readonly _tag: "Help" }
  | { readonly _tag: "Invalid"; readonly message: string }

type Parser<A> = (raw: string) => A | undefined

const positiveInteger: Parser<number> = (raw) =>
  /^\d+$/.test(raw) && Number(raw) > 0 ? Number(raw) : undefined
const integer: Parser<number> = (raw) =>
  /^-?\d+$/.test(raw) && Number.isSafeInteger(Number(raw)) ? Number(raw) : undefined
const ratio: Parser<number> = (raw) => {
  const v = raw.trim() === "" ? Number.NaN : Number(raw)
  return v >= 0 && v <= 1 ? v : undefined
}
const codec: Parser<KafkaCompression> = (raw) => kafkaCompressions.find((c) => c === raw)
const filePath: Parser<string> = (raw) => (raw.trim() === "" ? undefined : raw)

/** An optional flag `--name <pseudo>` read by `parse`; a refusal says `expected <form>`. */
const flag = <A>(name: string, pseudo: string, description: string, parse: Parser<A>, form: string) =>
  Options.text(name).pipe(
    Options.withPseudoName(pseudo),
    Options.withDescription(description),
    Options.mapEffect((raw) => {
      const value = parse(raw)
      return value === undefined
        ? Effect.fail(ValidationError.invalidValue(HelpDoc.p(`--${name}: expected ${form}, got "${raw}"`)))
        : Effect.succeed(value)
    }),
    Options.optional,
  )

const between01 = (name: string, example: string) => `a number between 0 and 1, e.g. --${name} ${example}`

const producer = Command.make("producer", {
  rate: flag(
    "rate",
    "N",
    "messages per second, a positive integer [PRODUCER_RATE, default 10]",
    positiveInteger,
    "a positive integer (messages per second), e.g. --rate 100",
  ),
  total: flag(
    "total",
    "N",
    "stop after N messages (valid + duplicate + malformed) [PRODUCER_TOTAL, default: run until stopped]",
    positiveInteger,
    "a positive integer, e.g. --total 60000",
  ),
  users: flag(
    "users",
    "N",
    "size of the user population (Zipf-skewed) [PRODUCER_USERS, default 5000]",
    positiveInteger,
    "a positive integer, e.g. --users 5000",
  ),
  duplicates: flag(
    "duplicates",
    "R",
    "share of messages re-sending an earlier event, 0..1 [PRODUCER_DUPLICATE_RATIO, default 0]",
    ratio,
    between01("duplicates", "0.02"),
  ),
  malformed: flag(
    "malformed",
    "R",
    "share of messages breaking the contract, 0..1 [PRODUCER_MALFORMED_RATIO, default 0]",
    ratio,
    between01("malformed", "0.01"),
  ),
  poison: flag(
    "poison",
    "R",
    "share of hostile records (bad bytes, lone surrogates, deep or odd values), 0..1 [PRODUCER_POISON_RATIO, default 0]",
    ratio,
    between01("poison", "0.01"),
  ),
  seed: flag(
    "seed",
    "N",
    "seed of the generator, an integer [PRODUCER_SEED, default: time-based]",
    integer,
    "an integer, e.g. --seed 42",
  ),
  compression: flag(
    "compression",
    "C",
    "batch compression: none, gzip, snappy, lz4 or zstd [PRODUCER_COMPRESSION, default none]",
    codec,
    `one of ${kafkaCompressions.join(", ")}, e.g. --compression zstd`,
  ),
  late: flag(
    "late",
    "R",
    "share of valid events sent 1-5 s late, 0..1 [default 0.02]",
    ratio,
    between01("late", "0.05"),
  ),
  truth: flag(
    "truth",
    "FILE",
    "write one JSON line per acknowledged message to FILE",
    filePath,
    "a file path, e.g. --truth truth.jsonl",
  ),
}).pipe(
  Command.withDescription(
    "Sends simulated events to Kafka at a steady rate until --total is reached or Ctrl-C. Each option overrides the environment variable in brackets. Kafka is configured by KAFKA_BROKERS, KAFKA_TOPIC and friends (see .env).",
  ),
)

const config = CliConfig.make({ showBuiltIns: false })

// @effect/cli's generic lines under each flag: every flag here is optional and its description
// says what it takes.
const generic = /^ {2}(A user-defined piece of text\.|This setting is optional\.)\n\n/gm

/** The help text, laid out by @effect/cli (plain text: it also goes to files and pipes). */
export const usage = `Usage: node packages/producer/src/main.ts [options]\n\n${`${stripVTControlCharacters(
  HelpDoc.toAnsiText(Command.getHelp(producer, config)),
)}\n\n`
  .replace(generic, "")
  .trimEnd()}\n\n-h, --help\n\n  show this help\n`

type Values = CommandDescriptor.Command.GetParsedType<typeof producer.descriptor>

const toFlags = (v: Values, cwd: string): Flags => {
  const flags: { -readonly [K in keyof Flags]?: Flags[K] } = {}
  const set = <K extends keyof Flags>(key: K, value: Option.Option<NonNullable<Flags[K]>>) => {
    if (Option.isSome(value)) flags[key] = value.value
  }
  set("rate", v.rate)
  set("total", v.total)
  set("users", v.users)
  set("duplicateRatio", v.duplicates)
  set("malformedRatio", v.malformed)
  set("poisonRatio", v.poison)
  set("seed", v.seed)
  set("compression", v.compression)
  set("lateRatio", v.late)
  set(
    "truthFile",
    Option.map(v.truth, (file) => path.resolve(cwd, file)),
  )
  return flags
}

/**
 * The last of each repeated flag, as the producer's earlier node:util parseArgs did (a later one
 * overrides: `make producer ARGS="--rate 50"` follows the Makefile's --rate 10, and scripts may
 * rely on it), where @effect/cli would refuse the repeat.
 */
export const lastOfEach = (argv: ReadonlyArray<string>): Array<string> => {
  const groups: Array<{ readonly name: string | undefined; readonly args: Array<string> }> = []
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? ""
    const name = /^(--[^=]+)(=|$)/.exec(arg)?.[1]
    const next = argv[i + 1]
    const takesValue = name !== undefined && !arg.includes("=") && name !== "--help" && next !== undefined
    groups.push({ name, args: takesValue && !next.startsWith("--") ? [arg, argv[++i] ?? ""] : [arg] })
  }
  return groups
    .filter((g, i) => g.name === undefined || !groups.slice(i + 1).some((h) => h.name === g.name))
    .flatMap((g) => g.args)
}

/** Parses argv (without node and the script); nothing here connects or reads the environment. */
export const parseFlags = (argv: ReadonlyArray<string>, cwd: string = process.cwd()): ParsedArgs => {
  const parsed = Effect.runSync(
    CommandDescriptor.parse(producer.descriptor, ["producer", ...lastOfEach(argv)], config).pipe(
      Effect.either,
      Effect.provide(NodeContext.layer),
    ),
  )
  if (Either.isLeft(parsed)) return { _tag: "Invalid", message: HelpDoc.toAnsiText(parsed.left.error).trim() }
  const directive = parsed.right
  if (directive._tag === "BuiltIn")
    return directive.option._tag === "ShowHelp"
      ? { _tag: "Help" }
      : { _tag: "Invalid", message: `${argv.join(" ")}: not an option of the producer` }
  const [extra] = directive.leftover
  if (extra !== undefined)
    return {
      _tag: "Invalid",
      message: extra.startsWith("-")
        ? `${extra}: unknown option, or its value is missing`
        : `unexpected argument "${extra}" (the producer takes options only)`,
    }
  return { _tag: "Run", flags: toFlags(directive.value, cwd) }
}
/** Configured settings with the flags laid over them; the combined ratios are checked too. */
export const applyFlags = (
  config: ProducerConfig,
  flags: Flags,
):
  | { readonly _tag: "Invalid"; readonly message: string }
  | { readonly _tag: "Ok"; readonly value: Settings } => {
  const value: Settings = {
    ...config,
    lateRatio: 0.02,
    truthFile: undefined,
    ...flags,
  }
  if (value.duplicateRatio + value.malformedRatio + value.poisonRatio > 1) {
    return {
      _tag: "Invalid",
      message: `--duplicates (${value.duplicateRatio}), --malformed (${value.malformedRatio}) and --poison (${value.poisonRatio}) must add up to at most 1 (PRODUCER_DUPLICATE_RATIO / PRODUCER_MALFORMED_RATIO / PRODUCER_POISON_RATIO when not given as flags)`,
    }
  }
  return { _tag: "Ok", value }
}

export interface Settings extends ProducerConfig {
  readonly lateRatio: number
  readonly truthFile: string | undefined
}
