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

const refuse = (message: string) =>
  Effect.sync(() => {
    process.stderr.write(`producer: ${message}\n\n${usage}`)
    process.exitCode = 2
  })

const program = (flags: Flags) =>
  Effect.gen(function* () {
    const settings = applyFlags(yield* ProducerConfig, flags)
    if (settings._tag === "Invalid") return yield* refuse(settings.message)
    yield* runProducer(settings.value)
  }).pipe(
    Effect.catchIf(ConfigError.isConfigError, (error) => refuse(`invalid configuration: ${String(error)}`)),
    Effect.provide(KafkaSinkLive.pipe(Layer.provide(KafkaClientLive))),
    Effect.provide(EnvConfigLive),
  )

const parsed = parseFlags(process.argv.slice(2))
if (parsed._tag === "Help") process.stdout.write(usage)
else if (parsed._tag === "Invalid") {
  process.stderr.write(`producer: ${parsed.message}\n\n${usage}`)
  process.exitCode = 2
} else NodeRuntime.runMain(program(parsed.flags))
