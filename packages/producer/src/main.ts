import * as fs from "node:fs"
import * as path from "node:path"
import { NodeRuntime } from "@effect/platform-node"
import { EnvConfigLive, KafkaClientLive, ProducerConfig } from "@rtoa/core"
import { ConfigError, Effect, Layer } from "effect"
import { applyFlags, type Flags, parseFlags, usage } from "./cli.ts"
import { runProducer } from "./producer.ts"
import { KafkaSinkLive } from "./sink.ts"

/**
 * The CLI edge: PRODUCER_* settings (environment, then .env) with flags laid over them, then the
 * producer against Kafka. Ctrl-C interrupts the program; runProducer finishes in-flight sends,
 * flushes the truth file and prints the summary, and runMain exits 0.
 */

const exitWith = (code: number, message: string) =>
  Effect.sync(() => {
    process.stderr.write(`producer: ${message}\n`)
    process.exitCode = code
  })

const refuse = (message: string) => exitWith(2, `${message}\n(--help lists the options)`)

const writableDir = (dir: string) =>
  Effect.promise(() =>
    fs.promises.access(dir, fs.constants.W_OK).then(
      () => true,
      () => false,
    ),
  )

// Settings are checked before the Kafka layer is built, so a typo never connects or creates topics.
const program = (flags: Flags) =>
  Effect.gen(function* () {
    const settings = applyFlags(yield* ProducerConfig, flags)
    if (settings._tag === "Invalid") return yield* refuse(settings.message)
    const { truthFile } = settings.value
    if (truthFile !== undefined && !(yield* writableDir(path.dirname(truthFile)))) {
      return yield* refuse(`--truth: cannot write to the directory of ${truthFile}`)
    }
    yield* runProducer(settings.value).pipe(
      Effect.provide(
        KafkaSinkLive({ compression: settings.value.compression }).pipe(Layer.provide(KafkaClientLive)),
      ),
    )
  }).pipe(
    Effect.catchIf(ConfigError.isConfigError, (error) => refuse(`invalid configuration: ${String(error)}`)),
    // One readable line instead of a stack dump; the summary (if it got that far) is already out.
    Effect.catchTags({
      KafkaError: (e) => exitWith(1, `Kafka ${e.operation} failed: ${e.message}`),
      TruthFileError: (e) => exitWith(1, `cannot write the truth file ${e.path}: ${e.message}`),
      ProducerOptionsError: (e) => refuse(e.message),
    }),
    Effect.provide(EnvConfigLive),
  )

const parsed = parseFlags(process.argv.slice(2))
if (parsed._tag === "Help") process.stdout.write(usage)
else if (parsed._tag === "Invalid") {
  process.stderr.write(`producer: ${parsed.message}\n(--help lists the options)\n`)
  process.exitCode = 2
} else NodeRuntime.runMain(program(parsed.flags))
