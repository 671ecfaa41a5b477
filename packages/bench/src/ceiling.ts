import * as path from "node:path"
import { Effect } from "effect"
import { BenchError, runCommand } from "./procs.ts"
import type { BenchContext } from "./systems.ts"

/**
 * The ceiling: what the broker on this box delivers to Kafka's own Java consumer, with the perf
 * tool from the same jars (infra/kafka/target/lib): ConsumerPerformance over the same backlog the
 * systems drain (same records, same bytes). ProducerPerformance: experiments/producer-ceiling.ts.
 */

/** The JVM arguments of a Kafka tool's main class from the broker's jars. */
export const javaArgs = (ctx: BenchContext, main: string) => [
  "-Xms256m",
  "-Xmx1g",
  `-Dlog4j2.configurationFile=${path.join(ctx.root, "infra/kafka/log4j2.yaml")}`,
  "-cp",
  path.join(ctx.root, "infra/kafka/target/lib/*"),
  main,
]

export interface ConsumerPerf {
  readonly msgPerSec: number
  readonly fetchMsgPerSec: number
  readonly mbPerSec: number
}

/** The data line of ConsumerPerformance's output (after its header). */
export const parseConsumerPerf = (out: string): ConsumerPerf | undefined => {
  const line = out
    .split("\n")
    .map((l) => l.trim())
    .find((l) => /^\d{4}-\d{2}-\d{2} .*, .*,/.test(l))
  const f = line?.split(",").map((s) => s.trim())
  if (f === undefined || f.length < 10) return undefined
  return { mbPerSec: Number(f[3]), msgPerSec: Number(f[5]), fetchMsgPerSec: Number(f[9]) }
}

export const consumerCeiling = (ctx: BenchContext, topic: string, events: number) =>
  Effect.gen(function* () {
    const out = yield* runCommand(
      "java",
      [
        ...javaArgs(ctx, "org.apache.kafka.tools.ConsumerPerformance"),
        "--bootstrap-server",
        ctx.broker.bootstrap,
        "--topic",
        topic,
        "--messages",
        String(events),
        "--timeout",
        "20000",
        "--group",
        `${topic}-perf-consumer`,
      ],
      process.env,
    )
    const perf = parseConsumerPerf(out)
    if (perf === undefined)
      return yield* new BenchError({ message: `unreadable ConsumerPerformance output:\n${out}` })
    yield* ctx.log(
      `ConsumerPerformance: ${Math.round(perf.msgPerSec)} msg/s (fetch ${Math.round(perf.fetchMsgPerSec)}/s)`,
    )
    return perf
  })
