import { Effect } from "effect"
import { presetGroup } from "./broker.ts"
import { describeLoad, withDashboards } from "./console-cost.ts"
import { openDashboards } from "./dashboards.ts"
import { countSql, drainSql, engineMemorySql, parseDrain, queryNumber } from "./latency.ts"
import { BenchError, stop } from "./procs.ts"
import type { DrainRun } from "./results.ts"
import { startSampler, tablesSamples, windowStats } from "./sampler.ts"
import {
  type BenchContext,
  benchToken,
  type RunningSystem,
  type SystemKind,
  startSystem,
  systemName,
  waitForCount,
} from "./systems.ts"
import { describeWrites, queryTableCounters, tableWrites } from "./writes.ts"

/**
 * Capacity: the system starts on a topic that already holds `events` records (a backlog) and
 * drains it as fast as it can. The rate is read from the data: events landed between the 10th and
 * 90th percentile of ingested_at per second, so start-up and the last partial batch do not count.
 * CPU and per-thread CPU are taken over the same interval. `dashboards`: that many simulated
 * consoles open on the processor while it drains.
 */
export const drainRun = (
  ctx: BenchContext,
  kind: SystemKind,
  topic: string,
  events: number,
  options: {
    readonly group: string
    readonly nodeFlags?: ReadonlyArray<string>
    readonly label?: string
    readonly dashboards?: number
  },
) =>
  Effect.scoped(
    Effect.gen(function* () {
      const clients = options.dashboards ?? 0
      if (clients > 0 && kind._tag !== "processor")
        return yield* new BenchError({ message: `${systemName(kind)} has no console to open` })
      const base = options.label ?? systemName(kind)
      const name = clients > 0 ? withDashboards(base, clients) : base
      yield* presetGroup(ctx.broker, topic, 3, options.group)
      const system: RunningSystem = yield* startSystem(
        ctx,
        kind,
        topic,
        options.group,
        options.nodeFlags ?? [],
      )
      const dashboards =
        clients > 0 ? yield* openDashboards({ port: system.port, token: benchToken, clients }) : undefined
      const readyAt = Date.now()
      const sampler = yield* startSampler({
        pid: system.proc.pid,
        brokerPid: ctx.broker.pid,
        engineBytes: queryNumber(system.query, engineMemorySql),
        tables: queryTableCounters(system.query),
        interval: "500 millis",
      })
      yield* ctx.log(`${name}: draining a backlog of ${events} events`)
      const ingested = yield* waitForCount(
        queryNumber(system.query, countSql),
        events,
        "30 seconds",
        `${Math.ceil(events / 2_000) + 60} seconds`,
      )
      const samples = yield* sampler.sampleNow
      const rates = parseDrain((yield* system.query(drainSql))[0], readyAt)
      if (rates === undefined) return yield* new BenchError({ message: `${name}: nothing was ingested` })
      // CPU over the p10-p90 interval, or over the whole run when that is too short to sample.
      const spread = rates.p90 - rates.p10 >= 2_000
      const [from, to] = spread ? [rates.p10, rates.p90] : [readyAt, rates.last]
      const stats = windowStats(samples, from, to)
      const tables = tableWrites(tablesSamples(samples), from, to)
      const load = dashboards === undefined ? undefined : yield* dashboards.report
      if (dashboards !== undefined) yield* dashboards.close
      const result: DrainRun = {
        system: name,
        events,
        ingested,
        eventsPerSec: rates.eventsPerSec,
        overallPerSec: rates.overallPerSec,
        cpuCores: stats.cpuCores,
        threadsCores: stats.threadsCores,
        rssPeakMb: stats.peakHwmMb,
        rssAnonPeakMb: stats.peakAnonMb,
        engineMemPeakMb: stats.engineMemPeakMb,
        ...(load === undefined ? {} : { dashboards: load }),
        tables,
      }
      yield* ctx.log(
        `${name}: ${ingested}/${events} in, ${rates.eventsPerSec} events/s (p10-p90), ${stats.cpuCores} cores, peak RSS ${stats.peakHwmMb} MB; ${describeWrites(tables)}${load === undefined ? "" : `; ${describeLoad(load)}`}`,
      )
      // A graceful stop (SIGTERM), so that node --cpu-prof writes its profile before the scope ends.
      yield* stop(system.proc, "SIGTERM", "30 seconds")
      return { result, dir: system.dir }
    }),
  )
