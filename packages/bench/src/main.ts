import * as path from "node:path"
import { Console, Effect } from "effect"
import { consumerCeiling } from "./ceiling.ts"
import { type BenchOptions, benchCommand, launch } from "./cli.ts"
import { abName, compareRuns, consoleTargets, withDashboards } from "./console-cost.ts"
import { consoleQueriesRun } from "./console-queries.ts"
import { describeCosts, perEventCosts, topicBytes } from "./costs.ts"
import { drainRun } from "./drain.ts"
import { fixedRateRun } from "./fixed-rate.ts"
import { writeResults } from "./report.ts"
import type { BenchResult, DrainRun, FixedRateRun } from "./results.ts"
import { scaleBacklog, scaleDrain } from "./scale-out.ts"
import { benchSession, fillBacklog } from "./session.ts"
import { gitCommit } from "./sysinfo.ts"
import { peer, processor, systemName } from "./systems.ts"
import { evaluateTargets } from "./targets.ts"

/**
 * `make bench`: the harness. One broker of its own, then in order: fixed-rate runs (processor and
 * the Kafka-engine peer, one after the other, each alone on the box with the broker and the
 * producer), a backlog drain per system (capacity), Kafka's ConsumerPerformance on the same backlog
 * (the ceiling), and scale-out (a 12-partition backlog drained by 1, 2, 4 group members). The
 * per-event costs the capacity model uses (costs.ts) come from the drains. The operators'
 * console's cost: the processor's runs at >= 1,000/s and its drain again, A/B, with simulated
 * dashboards closed and open in alternating periods of the same run (interleave.ts: both halves
 * see the same box), and its panel queries on a synthesized day, last (its store's disk writes
 * would disturb the ingestion runs). A step that fails is noted in the result and the run goes
 * on; every process started is stopped. Research runs live in packages/bench/experiments.
 */

const program = (options: BenchOptions) =>
  Effect.gen(function* () {
    const { started, machine, ctx } = yield* benchSession(options.brokerPort, options.httpPort)
    const { root, work, log } = ctx
    const date = new Date(started).toISOString()
    const stamp = date.replace(/[:.]/g, "-").slice(0, 19)
    const tag = `bench-${started.toString(36)}`
    const notes: Array<string> = []
    const attempt = <A, E extends { readonly message: string }, R>(
      label: string,
      step: Effect.Effect<A, E, R>,
    ) =>
      step.pipe(
        Effect.map((a): A | undefined => a),
        Effect.catchAll((e) => {
          notes.push(`${label} failed: ${e.message.split("\n")[0]}`)
          return Effect.as(log(`${label} FAILED: ${e.message}`), undefined)
        }),
      )
    const defined = <A>(xs: ReadonlyArray<A | undefined>): Array<A> =>
      xs.filter((x): x is A => x !== undefined)

    // 1. Fixed rates.
    const systems = [processor, ...options.peerProfiles.map(peer)]
    const dashboards = options.dashboards
    const dashboardRates = dashboards > 0 ? options.rates.filter((r) => r >= 1_000) : []
    const fixed: Array<FixedRateRun | undefined> = []
    for (const rate of options.drainOnly ? [] : options.rates)
      for (const kind of systems) {
        fixed.push(
          ...((yield* attempt(
            `${systemName(kind)} @ ${rate}/s`,
            fixedRateRun(ctx, kind, rate, options.warmupS, options.durationS, tag),
          )) ?? []),
        )
        if (kind._tag === "processor" && dashboardRates.includes(rate))
          fixed.push(
            ...((yield* attempt(
              `${withDashboards(abName(systemName(kind)), dashboards)} @ ${rate}/s`,
              fixedRateRun(ctx, kind, rate, options.warmupS, options.durationS, tag, { dashboards }),
            )) ?? []),
          )
      }

    // 2. One backlog, drained by each system and by ConsumerPerformance (the ceiling).
    const backlog = `${tag}-backlog`
    const prefill = yield* attempt("backlog fill", fillBacklog(ctx, backlog, options.drainEvents))
    const kafkaBytes =
      prefill === undefined
        ? undefined
        : { bytes: topicBytes(path.join(work, "kafka-data"), backlog), records: prefill.sent }
    if (prefill !== undefined)
      notes.push(
        `The producer alone (packages/producer, kafkajs, acks=all) reached ${Math.round(prefill.achievedRate)} events/s filling the backlog.`,
      )
    const drain: Array<DrainRun | undefined> = []
    let ceiling: BenchResult["ceiling"] = null
    if (prefill !== undefined) {
      const events = prefill.sent
      for (const kind of systems) {
        drain.push(
          ...((yield* attempt(
            `${systemName(kind)} drain`,
            Effect.map(
              drainRun(ctx, kind, backlog, events, { group: `${tag}-drain-${systemName(kind)}` }),
              (d) => d.results,
            ),
          )) ?? []),
        )
        if (kind._tag === "processor" && dashboards > 0)
          drain.push(
            ...((yield* attempt(
              `${withDashboards(abName(systemName(kind)), dashboards)} drain`,
              Effect.map(
                drainRun(ctx, kind, backlog, events, {
                  group: `${tag}-drain-${systemName(kind)}-dashboards`,
                  dashboards,
                }),
                (d) => d.results,
              ),
            )) ?? []),
          )
      }
      const consumer = options.drainOnly
        ? undefined
        : yield* attempt("ConsumerPerformance", consumerCeiling(ctx, backlog, events))
      if (consumer !== undefined)
        ceiling = {
          consumerMsgPerSec: Math.round(consumer.msgPerSec),
          consumerFetchMsgPerSec: Math.round(consumer.fetchMsgPerSec),
          consumerMbPerSec: consumer.mbPerSec,
        }
    }

    // 2b. Scale-out: a 12-partition backlog drained by 1, 2, 4 members of one process.
    const scaleOut: Array<ReadonlyArray<DrainRun> | undefined> = []
    if (options.scaleMembers.length > 0) {
      const topic = `${tag}-scale`
      const filled = yield* attempt("scale-out backlog fill", scaleBacklog(ctx, topic, options.drainEvents))
      const events = filled?.sent ?? 0
      for (const members of events > 0 ? options.scaleMembers : [])
        scaleOut.push(
          yield* attempt(`scale-out, ${members} members`, scaleDrain(ctx, topic, events, members, tag)),
        )
    }

    // 3. The console's panel queries on a synthesized day, in a store of their own.
    const queries =
      options.consoleHours > 0
        ? ((yield* attempt("console queries", consoleQueriesRun(ctx, options.consoleHours, 1_000))) ?? null)
        : null

    const fixedRate = defined(fixed)
    const drains = defined(drain)
    const perEvent = perEventCosts(
      drains.find((d) => d.system === "processor"),
      drains.filter((d) => d.system.startsWith("kafka-engine")),
      kafkaBytes,
    )
    if (perEvent !== undefined) yield* log(describeCosts(perEvent))
    const consoleCost =
      dashboards > 0 || queries !== null
        ? { dashboards, comparisons: compareRuns(fixedRate, drains), queries }
        : undefined
    for (const c of consoleCost?.comparisons ?? [])
      yield* log(`console: ${c.run} ${c.metric}: ${c.without} -> ${c.with} (x${c.ratio})`)
    const result: BenchResult = {
      version: 1,
      date,
      command: ["node", ...process.argv.slice(1).map((a) => path.relative(root, a) || a)].join(" "),
      gitCommit: gitCommit(root),
      options: { ...options },
      machine,
      elapsedS: Math.round((Date.now() - started) / 1_000),
      fixedRate,
      drain: drains,
      ceiling,
      targets: [
        ...evaluateTargets(fixedRate, drains),
        ...(consoleCost === undefined ? [] : consoleTargets(consoleCost.comparisons, consoleCost.queries)),
      ],
      notes,
      ...(consoleCost === undefined ? {} : { console: consoleCost }),
      ...(options.scaleMembers.length === 0 ? {} : { scaleOut: defined(scaleOut).flat() }),
      ...(perEvent === undefined ? {} : { perEvent }),
    }
    const written = yield* writeResults(path.resolve(root, options.outDir), stamp, result)
    yield* Console.log(`\n${written.markdown}`)
    yield* log(`results: ${written.files.map((f) => path.relative(root, f)).join(", ")}`)
  })

launch(
  benchCommand((options) => Effect.scoped(program(options))),
  "bench",
)
