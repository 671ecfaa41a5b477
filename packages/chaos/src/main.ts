import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { NodeRuntime } from "@effect/platform-node"
import { findWorkspaceRoot, kafkaPlaintextEnv, makeKafka } from "@rtoa/core"
import { mulberry32 } from "@rtoa/producer"
import { Cause, Console, Duration, Effect, Exit, Fiber, Option, Ref } from "effect"
import { keepBrokerLog, logTails, verdictFiles, writeVerdict } from "./artifacts.ts"
import { catchUp, stallWatch } from "./catchup.ts"
import { clusterBrokers, startClusterRun } from "./cluster-run.ts"
import { compare } from "./compare.ts"
import { diffEvents } from "./event-diff.ts"
import { type FaultMeasure, renderFaultTable } from "./fault-measure.ts"
import { groupProgress, observe, storedPositions, waitHealthy } from "./observe.ts"
import { ChaosError, type Proc, runCommand, runNode, scopedNode, startNode, waitExit } from "./procs.ts"
import { makeSchedule, profiles } from "./scenario.ts"
import { supervise } from "./supervisor.ts"
import { chaosToken } from "./token.ts"
import { readTruth } from "./truth.ts"
import { deadLetterRanges, minuteDeltas, type Verdict } from "./verdict.ts"

/**
 * The chaos suite (`make test-chaos`, PROFILE=ci|full): a producer run with duplicates and
 * malformed messages and a ground-truth log; the processor SIGKILLed at random moments and
 * restarted with 1-3 group members (rebalances); the broker restarted once; then ClickHouse and
 * the dead-letter topic compared with the truth. Exit 1 on any difference. Every run, passed or
 * failed at any step, leaves verdict.txt and verdict.json in its work directory.
 */

const root = findWorkspaceRoot()
const profileName = process.env.PROFILE ?? "ci"
const profile = profiles[profileName]
const seed = Number(process.env.CHAOS_SEED ?? Date.now() % 2 ** 31)
const port = Number(process.env.CHAOS_HTTP_PORT ?? 18_224)
const brokerPort = Number(process.env.CHAOS_KAFKA_PORT ?? 19_192)
// The cluster profile's nodes listen on brokerPort, +2 and +4 (controllers on +1).
const nodes = profile?.nodes ?? 1
const brokers = clusterBrokers(brokerPort, nodes)
const work = fs.mkdtempSync(path.join(os.tmpdir(), "rtoa-chaos-"))
const runId = `chaos-${seed}`
// Kill and restart jitter from the seed too, so CHAOS_SEED replays the same timing decisions.
const jitter = mulberry32(seed ^ 0x5bd1e995)
const kafkaData = path.join(work, "kafka-data")
const topic = `${runId}-events`
const dlqTopic = `${runId}-dlq`
const groupId = `${runId}-group`
const env: NodeJS.ProcessEnv = {
  ...process.env,
  // The chaos broker is plaintext, whatever security .env configures for the real one.
  ...kafkaPlaintextEnv,
  RTOA_HOME: root,
  DATA_DIR: kafkaData,
  KAFKA_BROKERS: brokers,
  KAFKA_NODES: String(nodes),
  KAFKA_TOPIC: topic,
  KAFKA_DLQ_TOPIC: dlqTopic,
  KAFKA_GROUP_ID: groupId,
  KAFKA_TOPIC_PARTITIONS: "3",
  CLICKHOUSE_URL: "",
  CLICKHOUSE_DATA_PATH: path.join(work, "chdb"),
  PROCESSOR_HTTP_PORT: String(port),
  PROCESSOR_HTTP_TOKEN: chaosToken,
  PROCESSOR_CONSUMER_STAGGER_MS: "1500",
  BATCH_MAX_WAIT_MS: "200",
  // The verdict reads every raw_events row (event_id and position) when counts differ.
  QUERY_MAX_ROWS: "5000000",
  QUERY_TIMEOUT_SECONDS: "120",
}
const kafka = makeKafka({
  brokers: brokers.split(","),
  clientId: "chaos",
  topic,
  dlqTopic,
  groupId: "chaos",
  partitions: 3,
})
const script = (p: string) => path.join(root, p)
const kafkaSh = (command: string, node?: number) =>
  runCommand(
    "bash",
    [script("scripts/kafka.sh"), command, ...(node === undefined ? [] : [String(node)])],
    env,
  )
const runStarted = Date.now()
let started = Date.now()
// What the verdict reports however the run ends: the step reached and the timed log lines.
const state = {
  step: "check the settings",
  timeline: [] as Array<string>,
  brokerUp: false,
  verdictWritten: false,
}
const log = (line: string) =>
  Effect.suspend(() => {
    const stamped = `+${((Date.now() - started) / 1_000).toFixed(1)}s ${line}`
    state.timeline.push(stamped)
    return Console.log(`[chaos ${stamped}]`)
  })
const step = (name: string) =>
  Effect.sync(() => {
    state.step = name
  })

const startProcessor = (members: number): Proc =>
  startNode(
    `processor(${members})`,
    script("packages/processor/src/main.ts"),
    [],
    { ...env, PROCESSOR_CONSUMERS: String(members) },
    path.join(work, "processor.log"),
  )

const baseVerdict = (ok: boolean) => ({
  ok,
  seed,
  profile: profileName,
  work,
  durationSeconds: (Date.now() - runStarted) / 1_000,
  step: state.step,
  timeline: state.timeline,
})

const save = (verdict: Verdict) =>
  Effect.sync(() => {
    keepBrokerLog(kafkaData, work)
    state.verdictWritten = true
    return writeVerdict({ ...verdict, logTails: logTails(work) })
  })

/** An early end (a step failed, timed out or was interrupted): the step, why, and the logs. */
const saveFailure = (cause: Cause.Cause<unknown>) =>
  Effect.gen(function* () {
    const failure = Option.match(Cause.failureOption(cause), {
      onNone: () => (Cause.isInterruptedOnly(cause) ? "interrupted" : Cause.pretty(cause)),
      onSome: (e) => (e instanceof ChaosError ? e.message : String(e)),
    })
    const offsets = state.brokerUp
      ? yield* groupProgress(kafka, groupId, topic).pipe(Effect.timeout("10 seconds"), Effect.option)
      : Option.none()
    yield* save({
      ...baseVerdict(false),
      failure,
      checks: [],
      failedChecks: [],
      ...(Option.isSome(offsets) ? { groupOffsets: offsets.value } : {}),
      logTails: {},
    })
    yield* Console.log(
      `chaos FAILED at step "${state.step}": ${failure}\nverdict: ${verdictFiles(work).text}`,
    )
  })

const program = Effect.gen(function* () {
  if (profile === undefined)
    return yield* new ChaosError({ message: `PROFILE must be one of ${Object.keys(profiles).join(", ")}` })
  const schedule = makeSchedule(profile, seed)
  const truthFile = path.join(work, "truth.jsonl")
  yield* Console.log(
    `chaos profile=${profile.name} seed=${seed} events=${profile.events} rate=${profile.rate}/s kills=${schedule.killsAt.length} broker-restart=${schedule.brokerRestartAt !== undefined} work=${work}`,
  )
  yield* step("start the broker")
  // Cleaned up even when the start fails half-way: a cluster may have some nodes up already.
  yield* Effect.addFinalizer(() =>
    Effect.sync(() => keepBrokerLog(kafkaData, work)).pipe(Effect.zipRight(kafkaSh("clean")), Effect.ignore),
  )
  yield* kafkaSh("start")
  state.brokerUp = true
  yield* step("create the tables")
  yield* runNode(script("packages/cli/src/main.ts"), ["ddl"], env)

  yield* step("produce, with kills and a broker restart")
  started = Date.now()
  const current = yield* Ref.make<Proc | undefined>(undefined)
  const killsDone = yield* Ref.make(0)
  const cluster =
    nodes > 1
      ? yield* startClusterRun({
          brokers: brokers.split(","),
          topic,
          dlqTopic,
          groupId,
          port,
          nodes,
          node: kafkaSh,
          killsDone,
          log,
          samplesFile: path.join(work, "cluster-samples.json"),
        })
      : undefined
  const supervisor = yield* Effect.fork(
    supervise(
      {
        killsAt: schedule.killsAt,
        consumers: schedule.consumers,
        rate: profile.rate,
        port,
        jitter,
        elapsedMs: () => Date.now() - started,
        log,
        start: startProcessor,
        ...(cluster === undefined ? {} : { killSignal: cluster.killSignal }),
      },
      current,
      killsDone,
    ),
  )
  yield* Effect.addFinalizer(() =>
    Fiber.interrupt(supervisor).pipe(
      Effect.zipRight(Ref.get(current)),
      Effect.flatMap((p) => Effect.sync(() => p?.child.exitCode === null && p.child.kill("SIGKILL"))),
    ),
  )
  // Each wait below also ends as soon as the supervisor fails (a processor that never got healthy).
  const guarded = <A, E>(wait: Effect.Effect<A, E>) =>
    Effect.raceFirst(wait, Effect.raceFirst(Fiber.join(supervisor), cluster?.failed ?? Effect.never))
  const producer = yield* scopedNode(
    "producer",
    script("packages/producer/src/main.ts"),
    [
      ...["--total", String(profile.events), "--rate", String(profile.rate)],
      ...["--duplicates", String(profile.duplicateRatio), "--malformed", String(profile.malformedRatio)],
      ...["--poison", String(profile.poisonRatio)],
      ...["--truth", truthFile, "--seed", String(seed)],
    ],
    env,
    path.join(work, "producer.log"),
  )
  const brokerRestart = yield* Ref.make<string | undefined>(undefined)
  if (schedule.brokerRestartAt !== undefined) {
    const at = schedule.brokerRestartAt
    yield* Effect.fork(
      Effect.gen(function* () {
        yield* Effect.sleep(Duration.millis(at))
        yield* log("broker: stopping")
        yield* kafkaSh("stop")
        yield* Effect.sleep("2 seconds")
        yield* kafkaSh("start")
        yield* log("broker: restarted")
      }).pipe(Effect.catchAll((e) => Ref.set(brokerRestart, `broker restart failed: ${e.message}`))),
    )
  }
  const producerExit = yield* guarded(waitExit(producer))
  yield* log(`producer finished (exit ${producerExit})`)
  const brokerProblem = yield* Ref.get(brokerRestart)
  if (brokerProblem !== undefined) return yield* new ChaosError({ message: brokerProblem })
  if (producerExit !== 0)
    return yield* new ChaosError({ message: `producer failed (exit ${producerExit}); see producer.log` })
  const expected = yield* Effect.promise(() => readTruth(truthFile))
  if (cluster !== undefined) yield* step("wait for the cluster faults")
  const faults = cluster === undefined ? [] : yield* guarded(cluster.faults)

  // Let the kills still due happen (the backlog keeps the processor busy).
  yield* step("wait for the remaining kills")
  const kills = schedule.killsAt.length
  const killsStalled = stallWatch(180_000, 1_200_000, Date.now())
  yield* guarded(
    Effect.gen(function* () {
      for (;;) {
        const done = yield* Ref.get(killsDone)
        if (done >= kills) return
        // One kill cycle is at most ~2 min (health 90 s, progress 30 s): 3 min without one is stuck.
        const why = killsStalled(kills - done, Date.now())
        if (why !== undefined)
          return yield* new ChaosError({ message: `${done} of ${kills} kills done (${why})` })
        yield* Effect.sleep("500 millis")
      }
    }),
  )
  yield* step("wait for the processor to catch up")
  yield* guarded(waitHealthy(port))
  yield* log(`catching up to ${expected.validDistinct} distinct valid events`)
  yield* guarded(
    catchUp({
      port,
      kafka,
      groupId,
      topic,
      target: expected.validDistinct,
      stallMs: 120_000,
      capMs: 1_200_000,
      log,
    }),
  )

  const measures: ReadonlyArray<FaultMeasure> = cluster === undefined ? [] : yield* cluster.measure(faults)
  yield* step("read ClickHouse and the topics")
  const { observed, topicEvents } = yield* observe(port, kafka, topic, dlqTopic)
  const result = compare(expected, observed)
  const groupOffsets = yield* groupProgress(kafka, groupId, topic).pipe(Effect.option)
  const eventsDiffer = observed.rawFinal !== expected.validDistinct || result.minutesDiffering.length > 0
  // Naming the events is a bonus: if reading every row fails, the verdict still has the counts.
  const stored = eventsDiffer
    ? yield* storedPositions(port).pipe(
        Effect.tapError((e) => log(`could not list raw_events to name the differing events: ${e.message}`)),
        Effect.option,
      )
    : Option.none()
  const events = Option.isSome(stored) ? diffEvents(expected.ids, topicEvents, stored.value) : undefined
  yield* step("done")
  const text = yield* save({
    ...baseVerdict(result.ok),
    checks: result.checks,
    failedChecks: result.checks.filter((c) => !c.pass),
    minutes: { compared: result.minutesCompared, differing: minuteDeltas(result.minutesDiffering) },
    ...(events === undefined ? {} : { events }),
    deadLetters: deadLetterRanges(observed.notDeadLettered, observed.wronglyDeadLettered),
    ...(Option.isSome(groupOffsets) ? { groupOffsets: groupOffsets.value } : {}),
    report: result.report,
    ...(measures.length === 0 ? {} : { faults: measures }),
    logTails: {},
  })
  yield* Console.log(result.ok ? `\n${result.report}\n` : `\n${text}`)
  if (measures.length > 0) yield* Console.log(`${renderFaultTable(measures)}\n`)
  yield* Console.log(
    `chaos ${result.ok ? "PASSED" : "FAILED"}: ${expected.sent} sent (${expected.duplicates} duplicates, ${expected.malformed} malformed incl. poison), ${schedule.killsAt.length} SIGKILLs, broker restarted ${schedule.brokerRestartAt === undefined ? "0" : "1"}x; verdict and logs in ${work}`,
  )
  if (!result.ok) return yield* new ChaosError({ message: "ClickHouse differs from the ground truth" })
})

program.pipe(
  Effect.onExit((exit) =>
    Exit.isFailure(exit) && !state.verdictWritten ? saveFailure(exit.cause) : Effect.void,
  ),
  Effect.scoped,
  NodeRuntime.runMain,
)
