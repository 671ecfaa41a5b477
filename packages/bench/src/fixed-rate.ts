import { Duration, Effect, Fiber, Ref } from "effect"
import { createTimeOffsets } from "./calibrate.ts"
import { abName, describeLoad, withDashboards } from "./console-cost.ts"
import { openDashboards } from "./dashboards.ts"
import { alternate, cpuCoresOver, inPeriods, measured, type Period } from "./interleave.ts"
import { countSql, firstEventSql, latencySql, latencyWhereSql, parseLatency, queryNumber } from "./latency.ts"
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
 * `dashboards`: that many simulated consoles on the processor, closed and open in alternating
 * periods of the measured window (interleave.ts); the run then yields two results, the closed
 * periods' and the open ones'.
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
      const name = clients > 0 ? abName(systemName(kind)) : systemName(kind)
      const topic = `${tag}-${systemName(kind)}${clients > 0 ? `-dash${clients}` : ""}-${rate}`
      const { system, sampler } = yield* startSampledSystem(ctx, kind, topic, { engineMemory: true })
      const dashboards =
        clients > 0
          ? yield* openDashboards({ port: system.port, token: benchToken, clients, open: false })
          : undefined
      const producer = yield* scopedProducer(ctx.broker.kafka)
      yield* ctx.log(`${name} @ ${rate}/s: producing ${warmupS}+${durationS} s`)
      const periods = yield* Ref.make<ReadonlyArray<Period>>([])
      // Four periods (closed, open, open, closed) over the measured window.
      const periodMs = Math.max(3_000, Math.floor((durationS * 1_000) / 4))
      if (dashboards !== undefined)
        yield* Effect.forkScoped(
          Effect.sleep(Duration.seconds(warmupS)).pipe(
            Effect.zipRight(
              Effect.suspend(() => alternate(dashboards, periodMs, Date.now() + durationS * 1_000, periods)),
            ),
          ),
        )
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
        tables,
      }
      if (load === undefined) {
        yield* ctx.log(
          `${name} @ ${rate}/s: ${ingested}/${expected} in, p50 ${latency?.p50} p95 ${latency?.p95} p99 ${latency?.p99} max ${latency?.max} ms; probes ${probe.visibleMs.length} (lost ${probe.lost}); cpu ${stats.cpuCores} cores, peak RSS ${stats.peakHwmMb} MB; ${describeWrites(tables)}`,
        )
        return [result]
      }
      // The dashboards' periods, each half on its own: latency of the events sent in it, CPU (the
      // writes per table are the whole run's).
      const all = yield* Ref.get(periods)
      const half = (open: boolean) =>
        Effect.gen(function* () {
          const ps = measured(all, open, ABMARGIN_MS, from, to)
          const l = parseLatency((yield* system.query(latencyWhereSql(inPeriods("event_time", ps))))[0])
          const cpu = cpuCoresOver(samples, ps)
          return {
            ...result,
            system: open ? withDashboards(name, clients) : name,
            windowEvents: l?.n ?? 0,
            latencyMs: l ?? null,
            cpuCores: cpu,
            abPeriods: ps.length,
            ...(open ? { dashboards: load } : {}),
          } satisfies FixedRateRun
        })
      const halves = [yield* half(false), yield* half(true)]
      for (const h of halves)
        yield* ctx.log(
          `${h.system} @ ${rate}/s (${all.filter((p) => p.open === (h.dashboards !== undefined)).length} periods of ${periodMs / 1_000} s): ${h.windowEvents} events, p50 ${h.latencyMs?.p50} p99 ${h.latencyMs?.p99} ms, cpu ${h.cpuCores} cores${h.dashboards === undefined ? "" : `; ${describeLoad(h.dashboards)}`}`,
        )
      return halves
    }),
  )

/** What each A/B period leaves out at its start (the switch and requests still in flight). */
const ABMARGIN_MS = 1_000
