import { randomBytes } from "node:crypto"
import * as path from "node:path"
import { kafkaPlaintextEnv, parseJsonEachRow, postProcessorQuery } from "@rtoa/core"
import { Duration, Effect, Schedule, type Scope } from "effect"
import { type Broker, freshTopic, groupLag } from "./broker.ts"
import { engineMemorySql, queryNumber } from "./latency.ts"
import { type PeerProfile, profileSettings } from "./peer/schema.ts"
import { BenchError, type Proc, runNode, scopedNode } from "./procs.ts"
import { startSampler } from "./sampler.ts"
import { queryTableCounters } from "./writes.ts"

/**
 * The systems under test, each in its own node process with its own embedded ClickHouse data
 * directory: our processor (packages/processor, after `cli ddl`) and the peer (ClickHouse's Kafka
 * engine in chDB, packages/bench/src/peer). Both answer SQL over HTTP, so the harness measures
 * them with the same queries.
 */

export type SystemKind =
  | { readonly _tag: "processor" }
  | { readonly _tag: "peer"; readonly profile: PeerProfile }

export const processor: SystemKind = { _tag: "processor" }
export const peer = (profile: PeerProfile): SystemKind => ({ _tag: "peer", profile })
export const systemName = (k: SystemKind) =>
  k._tag === "processor" ? "processor" : `kafka-engine-${k.profile}`

export interface BenchContext {
  readonly root: string
  /** Scratch directory of this bench run (data dirs, logs). */
  readonly work: string
  readonly broker: Broker
  readonly httpPort: number
  /** A fresh, numbered directory for one system run. */
  readonly dirFor: (name: string) => string
  readonly log: (line: string) => Effect.Effect<void>
}

export interface RunningSystem {
  readonly name: string
  readonly proc: Proc
  readonly dir: string
  /** Its HTTP port (the processor's operator endpoint and console). */
  readonly port: number
  readonly query: (sql: string) => Effect.Effect<ReadonlyArray<Record<string, unknown>>, BenchError>
}

const script = (ctx: BenchContext, p: string) => path.join(ctx.root, p)

/** This run's token for the processor's endpoint (PROCESSOR_HTTP_TOKEN below); clients send it. */
export const benchToken = randomBytes(16).toString("hex")

/** The environment of programs of this repo pointed at the bench's broker and a topic. */
export const appEnv = (
  ctx: BenchContext,
  topic: string,
  extra: Record<string, string> = {},
): NodeJS.ProcessEnv => {
  const env: NodeJS.ProcessEnv = { ...process.env }
  for (const k of Object.keys(env)) if (k.startsWith("OTEL_")) delete env[k]
  return {
    ...env,
    // The bench broker is plaintext, whatever security .env configures for the real one.
    ...kafkaPlaintextEnv,
    RTOA_HOME: ctx.root,
    INFRA_MODE: "local",
    CLICKHOUSE_URL: "",
    KAFKA_BROKERS: ctx.broker.bootstrap,
    KAFKA_TOPIC: topic,
    KAFKA_DLQ_TOPIC: `${topic}-dlq`,
    KAFKA_TOPIC_PARTITIONS: "3",
    // The processor's operator endpoint always wants a token; this run's own.
    PROCESSOR_HTTP_TOKEN: benchToken,
    ...extra,
  }
}

export const queryHttp = (port: number, sql: string) =>
  Effect.tryPromise({
    try: () =>
      postProcessorQuery(`http://127.0.0.1:${port}`, sql, {
        format: "JSONEachRow",
        timeoutMs: 20_000,
        token: benchToken,
      }).then(parseJsonEachRow),
    catch: (e) =>
      new BenchError({ message: `query on :${port} failed: ${e instanceof Error ? e.message : String(e)}` }),
  })

const waitHealthy = (proc: Proc, port: number) =>
  Effect.tryPromise(() =>
    fetch(`http://127.0.0.1:${port}/health`, { signal: AbortSignal.timeout(1_000) }),
  ).pipe(
    Effect.filterOrFail((r) => r.ok),
    Effect.retry(
      Schedule.spaced("200 millis").pipe(
        Schedule.upTo("90 seconds"),
        Schedule.whileInput(() => proc.child.exitCode === null),
      ),
    ),
    Effect.mapError(
      () =>
        new BenchError({
          message: `${proc.name} on port ${port} did not become healthy; see ${proc.logFile}`,
        }),
    ),
  )

/**
 * Starts a system consuming `topic` as consumer group `group` (whose offsets the caller has set),
 * for the scope's lifetime. `nodeFlags` go to node (e.g. --cpu-prof); `extraEnv` adds to (or
 * overrides) the system's environment, e.g. PROCESSOR_CONSUMERS.
 */
export const startSystem = (
  ctx: BenchContext,
  kind: SystemKind,
  topic: string,
  group: string,
  nodeFlags: ReadonlyArray<string> = [],
  extraEnv: Readonly<Record<string, string>> = {},
): Effect.Effect<RunningSystem, BenchError, Scope.Scope> =>
  Effect.gen(function* () {
    const name = systemName(kind)
    const dir = ctx.dirFor(name)
    const log = path.join(dir, "out.log")
    const port = kind._tag === "processor" ? ctx.httpPort : ctx.httpPort + 1
    let proc: Proc
    if (kind._tag === "processor") {
      const env = appEnv(ctx, topic, {
        KAFKA_GROUP_ID: group,
        CLICKHOUSE_DATA_PATH: path.join(dir, "chdb"),
        PROCESSOR_HTTP_PORT: String(port),
        ...extraEnv,
      })
      yield* runNode(script(ctx, "packages/cli/src/main.ts"), ["ddl"], env)
      proc = yield* scopedNode(name, script(ctx, "packages/processor/src/main.ts"), [], env, log, nodeFlags)
    } else {
      const env = appEnv(ctx, topic, {
        PEER_DATA_PATH: path.join(dir, "chdb"),
        PEER_PORT: String(port),
        PEER_BROKERS: ctx.broker.bootstrap,
        PEER_TOPIC: topic,
        PEER_GROUP: group,
        PEER_SETTINGS: JSON.stringify(profileSettings[kind.profile]),
        ...extraEnv,
      })
      proc = yield* scopedNode(name, script(ctx, "packages/bench/src/peer/main.ts"), [], env, log, nodeFlags)
    }
    yield* waitHealthy(proc, port)
    yield* ctx.log(`${name} up (pid ${proc.pid}, topic ${topic})`)
    return { name, proc, dir, port, query: (sql: string) => queryHttp(port, sql) }
  })

/** Waits until `count` reaches `target`, or it stops growing for `stall`, or `limit` passes. */
export const waitForCount = (
  count: Effect.Effect<number, BenchError>,
  target: number,
  stall: Duration.DurationInput,
  limit: Duration.DurationInput,
) =>
  Effect.gen(function* () {
    const stallMs = Duration.toMillis(stall)
    const deadline = Date.now() + Duration.toMillis(limit)
    let last = -1
    let lastChange = Date.now()
    for (;;) {
      const n = yield* count.pipe(Effect.orElseSucceed(() => last))
      if (n !== last) {
        last = n
        lastChange = Date.now()
      }
      if (n >= target || Date.now() - lastChange > stallMs || Date.now() > deadline) return n
      yield* Effect.sleep("250 millis")
    }
  })

/**
 * A fresh topic (and its group), the system consuming it from the start, and a sampler of the
 * system's CPU and memory and the group's lag (and, with `engineMemory`, the engine's own memory
 * and its per-table write counters), all for the scope's lifetime.
 */
export const startSampledSystem = (
  ctx: BenchContext,
  kind: SystemKind,
  topic: string,
  options: { readonly engineMemory: boolean },
) =>
  Effect.gen(function* () {
    const group = `${topic}-group`
    yield* freshTopic(ctx.broker, topic, 3, [group])
    const system = yield* startSystem(ctx, kind, topic, group)
    const sampler = yield* startSampler({
      pid: system.proc.pid,
      brokerPid: ctx.broker.pid,
      lag: groupLag(ctx.broker, topic, group),
      ...(options.engineMemory
        ? {
            engineBytes: queryNumber(system.query, engineMemorySql),
            tables: queryTableCounters(system.query),
          }
        : {}),
    })
    return { system, sampler }
  })
