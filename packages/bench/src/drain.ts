import { Effect, Fiber, Ref } from "effect"
import { presetGroup } from "./broker.ts"
import { abName, describeLoad, withDashboards } from "./console-cost.ts"
import { parseStorage, storageSql } from "./costs.ts"
import { openDashboards } from "./dashboards.ts"
import { alternate, cpuCoresOver, inPeriods, measured, type Period, totalMs } from "./interleave.ts"
import { countSql, drainSql, engineMemorySql, parseDrain, queryNumber } from "./latency.ts"
import { BenchError, stop } from "./procs.ts"
import type { DashboardLoad, DrainRun } from "./results.ts"
import { type Sample, startSampler, tablesSamples, windowStats } from "./sampler.ts"
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
 * consoles on the processor, closed and open in alternating periods while it drains
 * (interleave.ts); the run then yields two results, the closed periods' and the open ones' (rows
 * written per second in each, by ingested_at, within the same p10-p90 interval). `partitions`:
 * the topic's (3 unless said); `env`: more of the system's environment (scale-out.ts sets
 * PROCESSOR_CONSUMERS). After the drain, the active parts per table are read (costs.ts).
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
    readonly partitions?: number
    readonly env?: Readonly<Record<string, string>>
  },
) =>
  Effect.scoped(
    Effect.gen(function* () {
      const clients = options.dashboards ?? 0
      if (clients > 0 && kind._tag !== "processor")
        return yield* new BenchError({ message: `${systemName(kind)} has no console to open` })
      const base = options.label ?? systemName(kind)
      const name = clients > 0 ? abName(base) : base
      const partitions = options.partitions ?? 3
      yield* presetGroup(ctx.broker, topic, partitions, options.group)
      const system: RunningSystem = yield* startSystem(
        ctx,
        kind,
        topic,
        options.group,
        options.nodeFlags ?? [],
        options.env ?? {},
      )
      const dashboards =
        clients > 0
          ? yield* openDashboards({ port: system.port, token: benchToken, clients, open: false })
          : undefined
      const readyAt = Date.now()
      const periods = yield* Ref.make<ReadonlyArray<Period>>([])
      const ab =
        dashboards === undefined
          ? undefined
          : yield* Effect.forkScoped(alternate(dashboards, AB_PERIOD_MS, Number.POSITIVE_INFINITY, periods))
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
      if (ab !== undefined) yield* Fiber.interrupt(ab)
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
      const storage = yield* Effect.orElseSucceed(
        Effect.map(system.query(storageSql), parseStorage),
        () => [],
      )
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
        tables,
        ...(options.partitions === undefined ? {} : { partitions }),
        brokerCores: stats.brokerCores,
        machineCores: stats.machineCores,
        cpuPressure: stats.cpuPressure,
        storage,
      }
      yield* ctx.log(
        `${name}: ${ingested}/${events} in, ${rates.eventsPerSec} events/s (p10-p90), ${stats.cpuCores} cores (broker ${stats.brokerCores}, whole machine ${stats.machineCores}, CPU pressure ${stats.cpuPressure}), peak RSS ${stats.peakHwmMb} MB; ${describeWrites(tables)}`,
      )
      const results =
        load === undefined
          ? [result]
          : yield* halves(system, result, load, yield* Ref.get(periods), samples, rates.p10, rates.p90)
      for (const r of load === undefined ? [] : results)
        yield* ctx.log(
          `${r.system}: ${r.eventsPerSec} events/s, ${r.cpuCores} cores${r.dashboards === undefined ? "" : `; ${describeLoad(r.dashboards)}`}`,
        )
      // A graceful stop (SIGTERM), so that node --cpu-prof writes its profile before the scope ends.
      yield* stop(system.proc, "SIGTERM", "30 seconds")
      return { results, dir: system.dir }
    }),
  )

/**
 * An A/B drain's two halves: rows written per second of the closed and of the open periods within
 * the run's p10-p90 interval (by ingested_at), and CPU over the same periods.
 */
const halves = (
  system: RunningSystem,
  result: DrainRun,
  load: DashboardLoad,
  all: ReadonlyArray<Period>,
  samples: ReadonlyArray<Sample>,
  p10: number,
  p90: number,
) =>
  Effect.gen(function* () {
    const closed = measured(all, false, AB_MARGIN_MS, p10, p90)
    const open = measured(all, true, AB_MARGIN_MS, p10, p90)
    const [row] = yield* system.query(
      `SELECT countIf(${inPeriods("ingested_at", closed)}) AS closed, countIf(${inPeriods("ingested_at", open)}) AS open FROM raw_events`,
    )
    const perSec = (n: unknown, ps: ReadonlyArray<Period>) =>
      totalMs(ps) === 0 ? 0 : Math.round((Number(n) * 1_000) / totalMs(ps))
    const cpu = (ps: ReadonlyArray<Period>) => cpuCoresOver(samples, ps)
    return [
      {
        ...result,
        eventsPerSec: perSec(row?.closed, closed),
        cpuCores: cpu(closed),
        abPeriods: closed.length,
      },
      {
        ...result,
        system: withDashboards(result.system, load.clients),
        eventsPerSec: perSec(row?.open, open),
        cpuCores: cpu(open),
        abPeriods: open.length,
        dashboards: load,
      },
    ] satisfies ReadonlyArray<DrainRun>
  })

/** A/B periods while draining (a 1 M backlog drains in about 20 s here) and what each leaves out. */
const AB_PERIOD_MS = 4_000
const AB_MARGIN_MS = 500
