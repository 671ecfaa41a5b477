import { Duration, Effect, Schedule } from "effect"
import type { Admin } from "kafkajs"
import type { Fault } from "./fault-measure.ts"
import { ChaosError } from "./procs.ts"

/**
 * The faults of the `cluster` profile, injected one after another into the 3-node local cluster
 * (scripts/kafka.sh, KAFKA_NODES=3) while the producer and the processor run: each waits until
 * the cluster is whole again (every replica back in sync) before the next, so each fault's stall
 * and latency are its own.
 */

/** Java's String.hashCode, which Kafka uses to place a group on a __consumer_offsets partition. */
export const javaStringHash = (s: string): number => {
  let h = 0
  for (let i = 0; i < s.length; i++) h = (Math.imul(31, h) + s.charCodeAt(i)) | 0
  return h
}

/** The __consumer_offsets partition whose leader coordinates `groupId` (Kafka's Utils.abs % n). */
export const coordinatorPartition = (groupId: string, offsetsPartitions = 50): number => {
  const h = javaStringHash(groupId)
  return (h === -2_147_483_648 ? 0 : Math.abs(h)) % offsetsPartitions
}

/** The node leading the most of `leaders` (partition -> node); the lowest id on a tie. */
export const busiestNode = (leaders: ReadonlyArray<number>): number | undefined => {
  const counts = new Map<number, number>()
  for (const n of leaders) if (n >= 0) counts.set(n, (counts.get(n) ?? 0) + 1)
  return [...counts].sort((a, b) => b[1] - a[1] || a[0] - b[0])[0]?.[0]
}

const adminTry = <A>(what: string, f: () => Promise<A>) =>
  Effect.tryPromise({
    try: f,
    catch: (e) => new ChaosError({ message: `${what}: ${e instanceof Error ? e.message : String(e)}` }),
  }).pipe(
    Effect.timeoutFail({
      duration: "10 seconds",
      onTimeout: () => new ChaosError({ message: `${what}: timed out` }),
    }),
  )

// Retried: a broker that has not applied the latest metadata yet answers "does not host this
// topic-partition" for a while (seen right after the topics were created, and after restarts).
const metadata = (admin: Admin, topics: ReadonlyArray<string>) =>
  adminTry("topic metadata", () => admin.fetchTopicMetadata({ topics: [...topics] })).pipe(
    Effect.retry(Schedule.spaced("500 millis").pipe(Schedule.upTo("30 seconds"))),
  )

/** Leaders of a topic's partitions, by partition. */
export const topicLeaders = (admin: Admin, topic: string) =>
  Effect.map(metadata(admin, [topic]), (m) =>
    (m.topics[0]?.partitions ?? []).sort((a, b) => a.partitionId - b.partitionId).map((p) => p.leader),
  )

/** Waits until every partition of `topics` has a leader and all its replicas in sync. */
export const waitInSync = (admin: Admin, topics: ReadonlyArray<string>, cap: Duration.DurationInput) =>
  metadata(admin, topics).pipe(
    Effect.filterOrFail(
      (m) =>
        m.topics.length === topics.length &&
        m.topics.every((t) => t.partitions.every((p) => p.leader >= 0 && p.isr.length === p.replicas.length)),
      () => new ChaosError({ message: "replicas not in sync yet" }),
    ),
    Effect.retry(Schedule.spaced("500 millis").pipe(Schedule.upTo(cap))),
    Effect.mapError(
      (e) =>
        new ChaosError({
          message: `replicas of ${topics.join(", ")} not in sync within ${Duration.format(cap)}: ${e.message}`,
        }),
    ),
  )

export interface ClusterFaultSettings {
  readonly admin: Admin
  readonly topic: string
  readonly dlqTopic: string
  readonly groupId: string
  readonly nodes: number
  /** How long a SIGKILLed node stays down (past the brokers' session timeout, so leaders move). */
  readonly downMs: number
  /** Quiet time between two faults. */
  readonly gapMs: number
  /** Quiet time before the first fault: the processor settles, and it is the baseline. */
  readonly warmupMs: number
  /** Partitions the events topic grows to. */
  readonly growTo: number
  /** New partitions must be consumed within this long (the clients' metadata refresh + a margin). */
  readonly growthCapMs: number
  /** After a fault, the processor must commit on every partition again within this long. */
  readonly recoveryCapMs: number
  /** scripts/kafka.sh start-node|stop-node|kill-node N. */
  readonly node: (
    command: "start-node" | "stop-node" | "kill-node",
    node: number,
  ) => Effect.Effect<void, ChaosError>
  /** SIGKILLs the processor (the supervisor restarts it with another member count); resolves at the kill. */
  readonly killProcessor: Effect.Effect<void, ChaosError>
  /** The group's committed offset per partition (-1: none). */
  readonly committed: Effect.Effect<ReadonlyMap<number, number>, ChaosError>
  readonly log: (line: string) => Effect.Effect<void>
}

const whole = (s: ClusterFaultSettings) =>
  waitInSync(s.admin, [s.topic, s.dlqTopic, "__consumer_offsets"], "120 seconds")

/**
 * Waits until the group has committed past `from` on every partition: the processor made
 * progress everywhere again. A processor stalled by a fault fails the run here.
 */
const recovered = (s: ClusterFaultSettings, from: ReadonlyMap<number, number>) =>
  s.committed.pipe(
    Effect.filterOrFail(
      (now) => [...from].every(([p, offset]) => (now.get(p) ?? -1) > offset),
      () => new ChaosError({ message: "not committed past the fault yet" }),
    ),
    Effect.retry(Schedule.spaced("500 millis").pipe(Schedule.upTo(Duration.millis(s.recoveryCapMs)))),
    Effect.mapError(
      () =>
        new ChaosError({
          message: `the processor did not commit on every partition within ${s.recoveryCapMs / 1_000} s of the fault's end`,
        }),
    ),
  )

/** A fault from its first action until the processor has committed again on every partition. */
const timed = (s: ClusterFaultSettings, name: string, detail: Effect.Effect<string, ChaosError>) =>
  Effect.gen(function* () {
    const start = Date.now()
    const text = yield* detail
    // Offsets once the fault's action is done (a killed processor may have committed until then).
    const after = yield* s.committed.pipe(
      Effect.retry(Schedule.spaced("500 millis").pipe(Schedule.upTo("30 seconds"))),
    )
    yield* recovered(s, after)
    const end = Date.now()
    yield* s.log(
      `cluster: ${name} over, ${((end - start) / 1_000).toFixed(1)} s, committing on every partition again`,
    )
    return { name, start, end, detail: text } satisfies Fault
  })

const killAndRestart = (s: ClusterFaultSettings, node: number, why: string) =>
  Effect.gen(function* () {
    yield* s.log(`cluster: SIGKILL node ${node} (${why})`)
    yield* s.node("kill-node", node)
    yield* Effect.sleep(Duration.millis(s.downMs))
    yield* s.node("start-node", node)
    yield* whole(s)
    yield* s.log(`cluster: node ${node} back, every replica in sync`)
    return `node ${node} (${why}), down ${s.downMs / 1_000} s`
  })

const leaderKill = (s: ClusterFaultSettings) =>
  Effect.gen(function* () {
    const leaders = yield* topicLeaders(s.admin, s.topic)
    const node = busiestNode(leaders)
    if (node === undefined) return yield* new ChaosError({ message: `${s.topic} has no leaders` })
    const led = leaders.flatMap((n, p) => (n === node ? [p] : []))
    return yield* killAndRestart(s, node, `leader of partitions ${led.join(",")}`)
  })

const coordinatorKill = (s: ClusterFaultSettings) =>
  Effect.gen(function* () {
    const partition = coordinatorPartition(s.groupId)
    const leaders = yield* topicLeaders(s.admin, "__consumer_offsets")
    const node = leaders[partition]
    if (node === undefined || node < 0)
      return yield* new ChaosError({ message: `__consumer_offsets ${partition} has no leader` })
    return yield* killAndRestart(s, node, `group coordinator, __consumer_offsets-${partition}`)
  })

const rollingRestart = (s: ClusterFaultSettings) =>
  Effect.gen(function* () {
    for (let node = 1; node <= s.nodes; node++) {
      yield* s.log(`cluster: rolling restart, node ${node}`)
      yield* s.node("stop-node", node)
      yield* s.node("start-node", node)
      yield* whole(s)
    }
    return `nodes 1-${s.nodes} one at a time: SIGTERM, start, wait for in-sync replicas`
  })

/** Adds partitions, then waits until the group has committed on every new one. */
const partitionGrowth = (s: ClusterFaultSettings) =>
  Effect.gen(function* () {
    const before = (yield* topicLeaders(s.admin, s.topic)).length
    yield* s.log(`cluster: ${s.topic} grows from ${before} to ${s.growTo} partitions`)
    const start = Date.now()
    yield* adminTry("createPartitions", () =>
      s.admin.createPartitions({ topicPartitions: [{ topic: s.topic, count: s.growTo }] }),
    )
    const added = Array.from({ length: s.growTo - before }, (_, i) => before + i)
    yield* s.committed.pipe(
      Effect.filterOrFail(
        (c) => added.every((p) => (c.get(p) ?? -1) > 0),
        () => new ChaosError({ message: "new partitions not consumed yet" }),
      ),
      Effect.retry(Schedule.spaced("500 millis").pipe(Schedule.upTo(Duration.millis(s.growthCapMs)))),
      Effect.mapError(
        () =>
          new ChaosError({
            message: `partitions ${added.join(",")} added to ${s.topic} were not consumed within ${s.growthCapMs / 1_000} s (without a restart)`,
          }),
      ),
    )
    const after = (Date.now() - start) / 1_000
    yield* s.log(`cluster: every new partition committed ${after.toFixed(1)} s after the growth`)
    return `${before} -> ${s.growTo} partitions; first commit on every new one after ${after.toFixed(1)} s`
  })

const memberChange = (s: ClusterFaultSettings) =>
  Effect.map(s.killProcessor, () => "processor SIGKILLed; restarted with another member count")

/**
 * The faults in order, with processor kills (group members leaving and joining) between them:
 * leader SIGKILL, rolling restart, partition growth, coordinator SIGKILL. Each starts `gapMs`
 * after the previous one is over (the processor committing on every partition again).
 */
export const runClusterFaults = (s: ClusterFaultSettings) =>
  Effect.gen(function* () {
    const faults: Array<Fault> = []
    yield* Effect.sleep(Duration.millis(s.warmupMs - s.gapMs))
    const gap = Effect.sleep(Duration.millis(s.gapMs))
    const plan: ReadonlyArray<[string, Effect.Effect<string, ChaosError>]> = [
      ["leader SIGKILL", leaderKill(s)],
      ["members leave/join", memberChange(s)],
      ["rolling restart", rollingRestart(s)],
      ["members leave/join", memberChange(s)],
      ["partition growth", partitionGrowth(s)],
      ["members leave/join", memberChange(s)],
      ["coordinator SIGKILL", coordinatorKill(s)],
    ]
    for (const [name, fault] of plan) {
      yield* gap
      faults.push(yield* timed(s, name, fault))
    }
    return faults
  })
