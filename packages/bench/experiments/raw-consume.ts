import * as fs from "node:fs"
import * as path from "node:path"
import { Duration, Effect } from "effect"
import { consumerCeiling } from "../src/ceiling.ts"
import { BenchError, scopedNode, waitExit } from "../src/procs.ts"
import type { ClientRun } from "../src/results.ts"
import { startSampler, windowStats } from "../src/sampler.ts"
import type { BenchContext } from "../src/systems.ts"
import { runExperiment } from "./run.ts"

/**
 * Raw-client shoot-out: how fast the Kafka clients alone read the backlog, without the pipeline.
 * The consumer micro-benchmark (consumer-bench.ts) for one client, in its own process so that its
 * CPU (/proc) and peak RSS are its own: kafkajs, the processor's client, against @platformatic/kafka,
 * each without and with JSON.parse, next to Kafka's ConsumerPerformance on the same backlog.
 */
export const clientRun = (
  ctx: BenchContext,
  client: "kafkajs" | "platformatic",
  topic: string,
  messages: number,
  parse: boolean,
) =>
  Effect.scoped(
    Effect.gen(function* () {
      const label = `${client}${parse ? "+JSON.parse" : ""}`
      const dir = ctx.dirFor(`consume-${label}`)
      const log = path.join(dir, "out.log")
      const args = [
        "--client",
        client,
        "--brokers",
        ctx.broker.bootstrap,
        "--topic",
        topic,
        "--messages",
        String(messages),
      ]
      const proc = yield* scopedNode(
        `consume ${label}`,
        path.join(ctx.root, "packages/bench/experiments/consumer-bench.ts"),
        [...args, "--group", `${topic}-${label}`, ...(parse ? ["--parse"] : [])],
        process.env,
        log,
      )
      const sampler = yield* startSampler({
        pid: proc.pid,
        brokerPid: ctx.broker.pid,
        interval: "250 millis",
      })
      const started = Date.now()
      // The last sample is taken while the process still runs (it exits right after printing).
      const code = yield* waitExit(proc, Duration.minutes(5))
      const samples = yield* sampler.samples
      const line = fs
        .readFileSync(log, "utf8")
        .split("\n")
        .find((l) => l.startsWith("{"))
      if (code !== 0 || line === undefined)
        return yield* new BenchError({ message: `consumer-bench ${label} exited ${code}; see ${log}` })
      const out = JSON.parse(line) as { messages: number; seconds: number; msgPerSec: number }
      const stats = windowStats(samples, Date.now() - out.seconds * 1_000 - 500, Date.now())
      const result: ClientRun = {
        client: label,
        messages: out.messages,
        seconds: Math.round(out.seconds * 100) / 100,
        msgPerSec: out.msgPerSec,
        cpuCores: stats.cpuCores,
        rssPeakMb: stats.peakHwmMb,
      }
      yield* ctx.log(
        `raw consume ${label}: ${out.msgPerSec} msg/s (${((Date.now() - started) / 1_000).toFixed(1)} s with start-up)`,
      )
      return result
    }),
  )

// Only when run as a program: tests import the pure parts.
if (import.meta.main)
  runExperiment(
    "raw-consume",
    "kafkajs and @platformatic/kafka reading the backlog raw (without and with JSON.parse), and ConsumerPerformance",
    ({ ctx, topic, events }) =>
      Effect.gen(function* () {
        const clients: Array<ClientRun> = []
        for (const parse of [false, true])
          for (const client of ["kafkajs", "platformatic"] as const)
            clients.push(yield* clientRun(ctx, client, topic, events, parse))
        return { clients, consumerPerformance: yield* consumerCeiling(ctx, topic, events) }
      }),
  )
