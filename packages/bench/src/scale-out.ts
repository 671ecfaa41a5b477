import { kafkaTry } from "@rtoa/core"
import { Effect } from "effect"
import { freshTopic } from "./broker.ts"
import { cpuUsPerEvent, splitThreads } from "./costs.ts"
import { drainRun } from "./drain.ts"
import { produce } from "./loadgen.ts"
import type { DrainRun } from "./results.ts"
import { type BenchContext, processor } from "./systems.ts"

/**
 * Scale-out in local mode: one backlog on a 12-partition topic, drained by the processor with
 * PROCESSOR_CONSUMERS = 1, 2, 4 group members. The embedded store admits one process, so the
 * members share one process (app.ts: a source and a pipeline each, one engine and one set of
 * sinks); each run starts a fresh store and a fresh group from offset 0. What bounds the rate is
 * read from the per-thread CPU of the runs next to each other (summary-scale.ts).
 */

export const SCALE_PARTITIONS = 12

/** The backlog: `events` records on a fresh 12-partition topic; the records per partition logged. */
export const scaleBacklog = (ctx: BenchContext, topic: string, events: number) =>
  Effect.gen(function* () {
    yield* freshTopic(ctx.broker, topic, SCALE_PARTITIONS, [])
    yield* ctx.log(`scale-out: filling ${topic} (${SCALE_PARTITIONS} partitions) with ${events} events`)
    const filled = yield* produce(ctx, topic, 200_000, events, 43)
    const offsets = yield* kafkaTry("admin.fetchTopicOffsets", () =>
      ctx.broker.admin.fetchTopicOffsets(topic),
    )
    const per = offsets.map((p) => Number(p.high))
    yield* ctx.log(`scale-out: records per partition ${per.join(" ")}`)
    return filled
  })

export const scaleName = (members: number) => `processor, ${members} member${members === 1 ? "" : "s"}`

/** One drain of the scale-out backlog with `members` consumer-group members in the process. */
export const scaleDrain = (ctx: BenchContext, topic: string, events: number, members: number, tag: string) =>
  Effect.gen(function* () {
    const { results } = yield* drainRun(ctx, processor, topic, events, {
      group: `${tag}-scale-${members}`,
      label: scaleName(members),
      partitions: SCALE_PARTITIONS,
      env: { PROCESSOR_CONSUMERS: String(members) },
    })
    const runs: ReadonlyArray<DrainRun> = results.map((r) => ({ ...r, members }))
    for (const r of runs) {
      const t = splitThreads(r.threadsCores)
      yield* ctx.log(
        `${r.system}: ${cpuUsPerEvent(r)} µs CPU/event; main thread ${t.main.toFixed(2)} cores, V8 helpers ${t.v8.toFixed(2)}, engine and other threads ${t.rest.toFixed(2)}`,
      )
    }
    return runs
  })
