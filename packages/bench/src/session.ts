import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { findWorkspaceRoot } from "@rtoa/core"
import { Console, Effect } from "effect"
import { freshTopic, scopedBroker } from "./broker.ts"
import { produce } from "./loadgen.ts"
import { BenchError } from "./procs.ts"
import { machineFacts } from "./sysinfo.ts"
import type { BenchContext } from "./systems.ts"

/** Ports of brokers other people run on this box (the dev broker, the chaos cluster). */
const takenPorts = [19_092, 19_192, 29_192]

/** Whether a bench broker on `port` (and its controller on port + 1) would take someone else's. */
export const collidesWithOthers = (port: number) => takenPorts.some((p) => p === port || p === port + 1)

/**
 * What every bench program (main.ts and the experiments) starts with: a scratch directory (kept
 * with BENCH_KEEP=1), a timestamped log, the machine's facts and its own broker, for the scope.
 */
export const benchSession = (brokerPort: number, httpPort: number) =>
  Effect.gen(function* () {
    const root = findWorkspaceRoot()
    const started = Date.now()
    const work = fs.mkdtempSync(path.join(os.tmpdir(), "rtoa-bench-"))
    yield* Effect.addFinalizer(() =>
      Effect.sync(() =>
        process.env.BENCH_KEEP === "1" ? undefined : fs.rmSync(work, { recursive: true, force: true }),
      ),
    )
    const log = (line: string) =>
      Console.log(`[bench +${((Date.now() - started) / 1_000).toFixed(1)}s] ${line}`)
    const machine = machineFacts(root)
    yield* log(`work dir ${work}; ${machine.nproc} cores, load ${machine.loadAvgAtStart.join(" ")}`)
    // Checked here too: the experiments take --broker-port without the bench CLI's validation.
    if (collidesWithOthers(brokerPort))
      return yield* new BenchError({
        message: `broker port ${brokerPort} collides with a broker other people use; pick another`,
      })
    const broker = yield* scopedBroker(root, path.join(work, "kafka-data"), brokerPort)
    let serial = 0
    const ctx: BenchContext = {
      root,
      work,
      broker,
      httpPort,
      log,
      dirFor: (name) => {
        serial += 1
        const dir = path.join(work, `${String(serial).padStart(2, "0")}-${name.replace(/[^\w.+-]/g, "_")}`)
        fs.mkdirSync(dir, { recursive: true })
        return dir
      },
    }
    return { started, machine, ctx }
  })

/** A fresh 3-partition topic filled with `events` events as fast as the producer goes. */
export const fillBacklog = (ctx: BenchContext, topic: string, events: number) =>
  Effect.gen(function* () {
    yield* freshTopic(ctx.broker, topic, 3, [])
    yield* ctx.log(`filling the backlog: ${events} events as fast as the producer goes`)
    return yield* produce(ctx, topic, 200_000, events, 42)
  })
