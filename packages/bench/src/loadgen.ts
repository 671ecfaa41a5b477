import * as fs from "node:fs"
import * as path from "node:path"
import { Duration, Effect } from "effect"
import { BenchError, scopedNode, waitExit } from "./procs.ts"
import { appEnv, type BenchContext } from "./systems.ts"

/**
 * Load: the project's own producer (packages/producer) at a fixed rate, with no late,
 * duplicate or malformed events (so event_time = send time and every event is valid).
 */

export interface ProducerRun {
  readonly sent: number
  readonly achievedRate: number
  readonly startedAt: number
  readonly endedAt: number
}

const num = (s: string | undefined) => Number((s ?? "").replace(/,/g, ""))

/** Sent count and achieved rate from the producer's summary line. */
export const parseProducerSummary = (log: string): { sent: number; achievedRate: number } | undefined => {
  const m = /producer (?:completed|stopped|failed): sent ([\d,]+).*achieved ([\d,.]+) msg\/s/.exec(log)
  return m === null ? undefined : { sent: num(m[1]), achievedRate: num(m[2]) }
}

/** Runs the producer to completion (`total` events at `rate`/s); fails if it does not finish. */
export const produce = (ctx: BenchContext, topic: string, rate: number, total: number, seed: number) =>
  Effect.scoped(
    Effect.gen(function* () {
      const log = path.join(ctx.dirFor(`producer-${rate}`), "out.log")
      const startedAt = Date.now()
      const proc = yield* scopedNode(
        "producer",
        path.join(ctx.root, "packages/producer/src/main.ts"),
        [
          "--rate",
          String(rate),
          "--total",
          String(total),
          "--late",
          "0",
          "--duplicates",
          "0",
          "--malformed",
          "0",
          "--seed",
          String(seed),
        ],
        appEnv(ctx, topic),
        log,
      )
      const code = yield* waitExit(proc, Duration.seconds(total / Math.min(rate, 20_000) + 90))
      const endedAt = Date.now()
      const summary = parseProducerSummary(fs.readFileSync(log, "utf8"))
      if (code !== 0 || summary === undefined)
        return yield* new BenchError({ message: `producer exited ${code}; see ${log}` })
      return { ...summary, startedAt, endedAt } satisfies ProducerRun
    }),
  )
