import * as fs from "node:fs"
import * as path from "node:path"
import { Duration, Effect } from "effect"
import { BenchError, scopedNode, waitExit } from "./procs.ts"
import type { ClientRun } from "./results.ts"
import { startSampler, windowStats } from "./sampler.ts"
import type { BenchContext } from "./systems.ts"

/**
 * The consumer micro-benchmark (consumer-bench.ts) for one client, in its own process so that its
 * CPU (/proc) and peak RSS are its own: kafkajs, the processor's client, against @platformatic/kafka.
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
        path.join(ctx.root, "packages/bench/src/consumer-bench.ts"),
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
