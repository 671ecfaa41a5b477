import { Duration, Effect, Fiber } from "effect"
import { createTimeOffsets } from "./calibrate.ts"
import { describeLoad, withDashboards } from "./console-cost.ts"
import { openDashboards } from "./dashboards.ts"
import { countSql, firstEventSql, latencySql, parseLatency, queryNumber } from "./latency.ts"
import { produce } from "./loadgen.ts"
import { runProbes, scopedProducer } from "./probe.ts"
import { BenchError } from "./procs.ts"
import type { FixedRateRun } from "./results.ts"
import { tablesSamples, windowStats } from "./sampler.ts"
import { summarize } from "./stats.ts"
import {
  type BenchContext,
  benchToken,
  type SystemKind,
  startSampledSystem,
  systemName,
  waitForCount,
} from "./systems.ts"
import { describeWrites, tableWrites } from "./writes.ts"

/**
 * One fixed-rate run: a fresh topic, the system under test consuming it from the start, the
 * producer at `rate` for warm-up + measured seconds, probes during the measured window, then a
 * wait for everything to land and the latency of the events in the window, from ClickHouse.
 * `dashboards`: that many simulated consoles open on the processor for the whole run.
 */
export const fixedRateRun = (
  ctx: BenchContext,
  kind: SystemKind,
  rate: number,
  warmupS: number,
  durationS: number,
  tag: string,
  options: { readonly dashboards?: number } = {},
) =>
  Effect.scoped(
    Effect.gen(function* () {
      const clients = options.dashboards ?? 0
      if (clients > 0 && kind._tag !== "processor")
        return yield* new BenchError({ message: `${systemName(kind)} has no console to open` })
      const name = clients > 0 ? withDashboards(systemName(kind), clients) : systemName(kind)
      const topic = `${tag}-${systemName(kind)}${clients > 0 ? `-dash${clients}` : ""}-${rate}`
      const { system, sampler } = yield* startSampledSystem(ctx, kind, topic, { engineMemory: true })
      const dashboards =
        clients > 0 ? yield* openDashboards({ port: system.port, token: benchToken, clients }) : undefined
      const producer = yield* scopedProducer(ctx.broker.kafka)
      yield* ctx.log(`${name} @ ${rate}/s: producing ${warmupS}+${durationS} s`)
      const probes = yield* Effect.fork(
        Effect.sleep(Duration.seconds(warmupS + 1)).pipe(
          Effect.zipRight(
            runProbes({
              producer,
              topic,
              runId: topic,
              query: system.query,
              every: Duration.millis(Math.max(500, (durationS * 1_000) / 30)),
              duration: Duration.seconds(Math.max(1, durationS - 2)),
            }),
          ),
        ),
      )
      const run = yield* produce(ctx, topic, rate, rate * (warmupS + durationS), rate)
      const probe = yield* Fiber.join(probes)
      const expected = run.sent + probe.visibleMs.length + probe.lost
      const ingested = yield* waitForCount(
        queryNumber(system.query, countSql),
        expected,
        "20 seconds",
        "90 seconds",
      )
      const samples = yield* sampler.sampleNow
      const first = yield* system.query(firstEventSql)
      const t0 = Number(first[0]?.t0)
      const from = t0 + warmupS * 1_000
      const to = from + durationS * 1_000
      const latency = parseLatency((yield* system.query(latencySql(from, to)))[0])
      const stats = windowStats(samples, from, to)
      const tables = tableWrites(tablesSamples(samples), from, to)
      const calibration =
        kind._tag === "processor"
          ? yield* createTimeOffsets(
              ctx.broker.kafka,
              topic,
              `${topic}-calibration`,
              Math.min(run.sent, 20_000),
            ).pipe(Effect.orElseSucceed(() => undefined))
          : undefined
      const load = dashboards === undefined ? undefined : yield* dashboards.report
      if (dashboards !== undefined) yield* dashboards.close
      const result: FixedRateRun = {
        system: name,
        rate,
        warmupS,
        durationS,
        sent: run.sent,
        producerRate: run.achievedRate,
        ingested,
        windowEvents: latency?.n ?? 0,
        latencyMs: latency ?? null,
        probeVisibleMs: summarize(probe.visibleMs) ?? null,
        probeGapMs: summarize(probe.gapMs) ?? null,
        createTimeMinusEventTimeMs: calibration ?? null,
        cpuCores: stats.cpuCores,
        threadsCores: stats.threadsCores,
        rssPeakMb: stats.peakHwmMb,
        rssAnonPeakMb: stats.peakAnonMb,
        engineMemPeakMb: stats.engineMemPeakMb,
        lagMax: stats.maxLag,
        brokerCpuCores: stats.brokerCores,
        ...(load === undefined ? {} : { dashboards: load }),
        tables,
      }
      yield* ctx.log(
        `${name} @ ${rate}/s: ${ingested}/${expected} in, p50 ${latency?.p50} p95 ${latency?.p95} p99 ${latency?.p99} max ${latency?.max} ms; probes ${probe.visibleMs.length} (lost ${probe.lost}); cpu ${stats.cpuCores} cores, peak RSS ${stats.peakHwmMb} MB; ${describeWrites(tables)}${load === undefined ? "" : `; ${describeLoad(load)}`}`,
      )
      return result
    }),
  )
