import * as fs from "node:fs"
import * as path from "node:path"
import { makeGenerator } from "@rtoa/producer"
import { Effect } from "effect"
import { BenchError, runCommand } from "./procs.ts"
import type { BenchContext } from "./systems.ts"

/**
 * The ceiling: what the broker on this box delivers to Kafka's own Java clients, with the perf
 * tools from the same jars (infra/kafka/target/lib): ConsumerPerformance over the same backlog the
 * systems drain (same records, same bytes), and ProducerPerformance with payloads of real events.
 */

const javaArgs = (ctx: BenchContext, main: string) => [
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
