import * as fs from "node:fs"
import { closeQuietly, defaultMetadataMaxAgeMs } from "@rtoa/core"
import { Cause, Effect, Fiber, Queue, Ref, Schedule, type Scope } from "effect"
import { Kafka, logLevel } from "kafkajs"
import { runClusterFaults } from "./cluster.ts"
import { type Fault, type LatencySample, measureFaults, type OffsetSample } from "./fault-measure.ts"
import { ChaosError } from "./procs.ts"
import { committedOffsets, sampleForever } from "./samplers.ts"

/** Client ports of a local cluster's nodes: the first, then +2 each (the controller takes +1). */
export const clusterBrokers = (firstPort: number, nodes: number): string =>
  Array.from({ length: nodes }, (_, i) => `127.0.0.1:${firstPort + 2 * i}`).join(",")

export interface ClusterRunSettings {
  readonly brokers: ReadonlyArray<string>
  readonly topic: string
  readonly dlqTopic: string
  readonly groupId: string
  readonly port: number
  readonly nodes: number
  /** scripts/kafka.sh <command> <node> with the run's environment. */
  readonly node: (
    command: "start-node" | "stop-node" | "kill-node",
    node: number,
  ) => Effect.Effect<void, ChaosError>
  /** Processor kills the supervisor has done. */
  readonly killsDone: Ref.Ref<number>
  readonly log: (line: string) => Effect.Effect<void>
  /** Where the raw samples are kept (JSON), to recompute or question the measures later. */
  readonly samplesFile: string
}

/** Quiet time between faults, and how long after a fault its stall and latency are looked at. */
const gapMs = 10_000
const settleMs = 10_000
const warmupMs = 30_000

/**
 * Starts the samplers and the fault sequence of the `cluster` profile. `killSignal` is for the
 * supervisor (it kills the processor when the sequence asks); `faults` ends with the faults done
 * (or the first that failed); `measure` stops sampling and measures them, with a baseline row for
 * the quiet time before the first fault.
 */
export const startClusterRun = (s: ClusterRunSettings) =>
  Effect.gen(function* () {
    // Its own quiet client: the faults make every request to a dead node log an error otherwise.
    const admin = new Kafka({
      clientId: "chaos-cluster",
      brokers: [...s.brokers],
      logLevel: logLevel.NOTHING,
    }).admin()
    yield* Effect.acquireRelease(
      Effect.tryPromise({
        try: () => admin.connect(),
        catch: (e) => new ChaosError({ message: `admin.connect: ${String(e)}` }),
      }),
      () => closeQuietly("the chaos admin client", () => admin.disconnect()),
    )
    const offsets: Array<OffsetSample> = []
    const latency: Array<LatencySample> = []
    const sampledFrom = Date.now()
    const sampler = yield* Effect.forkScoped(
      sampleForever(admin, s.groupId, s.topic, s.port, offsets, latency),
    )
    const signals = yield* Queue.unbounded<void>()
    const killProcessor = Effect.gen(function* () {
      const before = yield* Ref.get(s.killsDone)
      yield* Queue.offer(signals, undefined)
      yield* Ref.get(s.killsDone).pipe(
        Effect.filterOrFail(
          (n) => n > before,
          () => new ChaosError({ message: "the supervisor did not kill the processor within 120 s" }),
        ),
        Effect.retry(Schedule.spaced("200 millis").pipe(Schedule.upTo("120 seconds"))),
      )
    })
    const sequence = yield* Effect.forkScoped(
      runClusterFaults({
        admin,
        topic: s.topic,
        dlqTopic: s.dlqTopic,
        groupId: s.groupId,
        nodes: s.nodes,
        downMs: 12_000,
        gapMs,
        warmupMs,
        growTo: 6,
        growthCapMs: defaultMetadataMaxAgeMs + 30_000,
        recoveryCapMs: 120_000,
        node: s.node,
        killProcessor,
        committed: committedOffsets(admin, s.groupId, s.topic),
        log: s.log,
      }).pipe(Effect.tapErrorCause((cause) => s.log(`cluster: the faults stopped: ${Cause.pretty(cause)}`))),
    )
    return {
      killSignal: (_index: number) => Queue.take(signals),
      faults: Fiber.join(sequence),
      /** Fails as soon as the faults fail; never succeeds (to race against the other waits). */
      failed: Fiber.join(sequence).pipe(Effect.zipRight(Effect.never)),
      measure: (faults: ReadonlyArray<Fault>) =>
        Effect.gen(function* () {
          yield* Fiber.interrupt(sampler)
          const first = faults[0]?.start ?? Date.now()
          const baseline: Fault = {
            name: "baseline (no fault)",
            start: sampledFrom + warmupMs / 3,
            end: Math.max(sampledFrom + warmupMs / 3, first - settleMs),
            detail: "steady traffic before the first fault",
          }
          yield* Effect.sync(() =>
            fs.writeFileSync(
              s.samplesFile,
              JSON.stringify({
                faults,
                offsets: offsets.map((o) => ({ at: o.at, committed: Object.fromEntries(o.committed) })),
                latency,
              }),
            ),
          )
          return measureFaults([baseline, ...faults], offsets, latency, settleMs)
        }),
    }
  }) satisfies Effect.Effect<unknown, ChaosError, Scope.Scope>
