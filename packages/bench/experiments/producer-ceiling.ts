import * as fs from "node:fs"
import * as path from "node:path"
import { makeGenerator } from "@rtoa/producer"
import { Effect } from "effect"
import { freshTopic } from "../src/broker.ts"
import { javaArgs } from "../src/ceiling.ts"
import { BenchError, runCommand } from "../src/procs.ts"
import type { BenchContext } from "../src/systems.ts"
import { runExperiment } from "./run.ts"

/**
 * A second ceiling: Kafka's ProducerPerformance (acks=all) with payloads of real events, what the
 * broker on this box takes from Kafka's own Java producer, next to our producer's fill rate.
 */

export interface ProducerPerf {
  readonly msgPerSec: number
  readonly mbPerSec: number
  readonly p99Ms: number
}

/** The final summary line of ProducerPerformance. */
export const parseProducerPerf = (out: string): ProducerPerf | undefined => {
  const m =
    /(\d+) records sent, ([\d.]+) records\/sec \(([\d.]+) MB\/sec\).*?(\d+)(?:\.\d+)? ms 99th/.exec(out) ??
    undefined
  return m === undefined
    ? undefined
    : { msgPerSec: Number(m[2]), mbPerSec: Number(m[3]), p99Ms: Number(m[4]) }
}

export const producerCeiling = (ctx: BenchContext, topic: string, records: number) =>
  Effect.gen(function* () {
    const payloads = path.join(ctx.dirFor("payloads"), "events.txt")
    const generator = makeGenerator({
      seed: 7,
      users: 5_000,
      duplicateRatio: 0,
      malformedRatio: 0,
      lateRatio: 0,
    })
    fs.writeFileSync(
      payloads,
      `${generator
        .take(10_000, Date.now())
        .map((m) => m.value)
        .join("\n")}\n`,
    )
    const out = yield* runCommand(
      "java",
      [
        ...javaArgs(ctx, "org.apache.kafka.tools.ProducerPerformance"),
        "--topic",
        topic,
        "--num-records",
        String(records),
        "--throughput",
        "-1",
        "--payload-file",
        payloads,
        "--producer-props",
        `bootstrap.servers=${ctx.broker.bootstrap}`,
        "acks=all",
      ],
      process.env,
    )
    const perf = parseProducerPerf(out)
    if (perf === undefined)
      return yield* new BenchError({ message: `unreadable ProducerPerformance output:\n${out}` })
    yield* ctx.log(`ProducerPerformance: ${Math.round(perf.msgPerSec)} msg/s, p99 ${perf.p99Ms} ms`)
    return perf
  })

// Only when run as a program: the test imports the parser.
if (import.meta.main)
  runExperiment(
    "producer-ceiling",
    "Kafka's ProducerPerformance (acks=all, real event payloads) as many records as the backlog holds",
    ({ ctx, events, producerRate, tag }) =>
      Effect.gen(function* () {
        const topic = `${tag}-ceiling`
        yield* freshTopic(ctx.broker, topic, 3, [])
        const perf = yield* producerCeiling(ctx, topic, events)
        return { producerPerformance: perf, ourProducerPerSec: Math.round(producerRate) }
      }),
  )
