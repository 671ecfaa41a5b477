import * as path from "node:path"
import { parseArgs } from "node:util"
import { type KafkaCompression, kafkaCompressions, type ProducerConfig } from "@rtoa/core"

/**
 * Command-line flags. Each overrides the matching PRODUCER_* setting; a bad value is refused with
 * the flag's name and the accepted form, before anything connects.
 */

export const usage = `Usage: node packages/producer/src/main.ts [options]

Sends simulated events to Kafka at a steady rate until --total is reached or Ctrl-C.

Options (each overrides the environment variable in brackets):
  --rate N          messages per second, a positive integer            [PRODUCER_RATE, default 10]
  --total N         stop after N messages (valid + duplicate + malformed) [PRODUCER_TOTAL, default: run until stopped]
  --users N         size of the user population (Zipf-skewed)           [PRODUCER_USERS, default 5000]
  --duplicates R    share of messages re-sending an earlier event, 0..1 [PRODUCER_DUPLICATE_RATIO, default 0]
  --malformed R     share of messages breaking the contract, 0..1       [PRODUCER_MALFORMED_RATIO, default 0]
  --poison R        share of hostile records (bad bytes, lone surrogates, deep or odd values), 0..1
                                                                        [PRODUCER_POISON_RATIO, default 0]
  --seed N          seed of the generator, an integer                   [PRODUCER_SEED, default: time-based]
  --compression C   batch compression: none, gzip, snappy, lz4 or zstd  [PRODUCER_COMPRESSION, default none]
  --late R          share of valid events sent 1-5 s late, 0..1          [default 0.02]
  --truth FILE      write one JSON line per acknowledged message to FILE
  --help            show this help

Kafka is configured by KAFKA_BROKERS, KAFKA_TOPIC and friends (see .env).
`

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

const options = {
  rate: { type: "string" },
  total: { type: "string" },
  users: { type: "string" },
  duplicates: { type: "string" },
  malformed: { type: "string" },
  poison: { type: "string" },
  seed: { type: "string" },
  compression: { type: "string" },
  late: { type: "string" },
  truth: { type: "string" },
  help: { type: "boolean", short: "h" },
} as const

type Parser = (raw: string) => number | undefined

const positiveInteger: Parser = (raw) => (/^\d+$/.test(raw) && Number(raw) > 0 ? Number(raw) : undefined)
const integer: Parser = (raw) =>
  /^-?\d+$/.test(raw) && Number.isSafeInteger(Number(raw)) ? Number(raw) : undefined
const ratio: Parser = (raw) => {
  const v = raw.trim() === "" ? Number.NaN : Number(raw)
  return v >= 0 && v <= 1 ? v : undefined
}

type NumericFlag = Exclude<keyof Flags, "truthFile" | "compression">

const numeric: ReadonlyArray<readonly [keyof typeof options, NumericFlag, Parser, string]> = [
  ["rate", "rate", positiveInteger, "a positive integer (messages per second), e.g. --rate 100"],
  ["total", "total", positiveInteger, "a positive integer, e.g. --total 60000"],
  ["users", "users", positiveInteger, "a positive integer, e.g. --users 5000"],
  ["duplicates", "duplicateRatio", ratio, "a number between 0 and 1, e.g. --duplicates 0.02"],
  ["malformed", "malformedRatio", ratio, "a number between 0 and 1, e.g. --malformed 0.01"],
  ["poison", "poisonRatio", ratio, "a number between 0 and 1, e.g. --poison 0.01"],
  ["seed", "seed", integer, "an integer, e.g. --seed 42"],
  ["late", "lateRatio", ratio, "a number between 0 and 1, e.g. --late 0.05"],
]

const readArgs = (argv: ReadonlyArray<string>) =>
  parseArgs({ args: [...argv], options, strict: true, allowPositionals: false }).values

export const parseFlags = (argv: ReadonlyArray<string>, cwd: string = process.cwd()): ParsedArgs => {
  let values: ReturnType<typeof readArgs>
  try {
    values = readArgs(argv)
  } catch (error) {
    // parseArgs names the unknown option or the flag missing its value.
    return { _tag: "Invalid", message: error instanceof Error ? error.message : String(error) }
  }
  if (values.help === true) return { _tag: "Help" }
  const flags: { -readonly [K in keyof Flags]?: Flags[K] } = {}
  for (const [flag, key, parse, form] of numeric) {
    const raw = values[flag]
    if (typeof raw !== "string") continue
    const value = parse(raw)
    if (value === undefined) return { _tag: "Invalid", message: `--${flag}: expected ${form}, got "${raw}"` }
    flags[key] = value
  }
  if (values.compression !== undefined) {
    const codec = kafkaCompressions.find((c) => c === values.compression)
    if (codec === undefined) {
      return {
        _tag: "Invalid",
        message: `--compression: expected one of ${kafkaCompressions.join(", ")}, e.g. --compression zstd, got "${values.compression}"`,
      }
    }
    flags.compression = codec
  }
  if (values.truth !== undefined) {
    if (values.truth.trim() === "")
      return { _tag: "Invalid", message: "--truth: expected a file path, e.g. --truth truth.jsonl" }
    flags.truthFile = path.resolve(cwd, values.truth)
  }
  return { _tag: "Run", flags }
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
