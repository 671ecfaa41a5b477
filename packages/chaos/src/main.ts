import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { NodeRuntime } from "@effect/platform-node"
import { findWorkspaceRoot, kafkaPlaintextEnv, makeKafka } from "@rtoa/core"
import { mulberry32 } from "@rtoa/producer"
import { Console, Duration, Effect, Fiber, Ref, Schedule as Sched } from "effect"
import { compare } from "./compare.ts"
import { observe, queryRows, waitHealthy } from "./observe.ts"
import { ChaosError, type Proc, runCommand, runNode, scopedNode, startNode, waitExit } from "./procs.ts"
import { makeSchedule, profiles } from "./scenario.ts"
import { readTruth } from "./truth.ts"

/**
 * The chaos suite (`make test-chaos`, PROFILE=ci|full): a producer run with duplicates and
 * malformed messages and a ground-truth log; the processor SIGKILLed at random moments and
 * restarted with 1-3 group members (rebalances); the broker restarted once; then ClickHouse and
 * the dead-letter topic compared with the truth. Exit 1 on any difference.
 */

const root = findWorkspaceRoot()
const profile = profiles[process.env.PROFILE ?? "ci"]
const seed = Number(process.env.CHAOS_SEED ?? Date.now() % 2 ** 31)
const port = Number(process.env.CHAOS_HTTP_PORT ?? 18_224)
const brokerPort = Number(process.env.CHAOS_KAFKA_PORT ?? 19_192)
const work = fs.mkdtempSync(path.join(os.tmpdir(), "rtoa-chaos-"))
const runId = `chaos-${seed}`
// Kill and restart jitter from the seed too, so CHAOS_SEED replays the same timing decisions.
const jitter = mulberry32(seed ^ 0x5bd1e995)
const env: NodeJS.ProcessEnv = {
  ...process.env,
  // The chaos broker is plaintext, whatever security .env configures for the real one.
  ...kafkaPlaintextEnv,
  RTOA_HOME: root,
  DATA_DIR: path.join(work, "kafka-data"),
  KAFKA_BROKERS: `127.0.0.1:${brokerPort}`,
  KAFKA_TOPIC: `${runId}-events`,
  KAFKA_DLQ_TOPIC: `${runId}-dlq`,
  KAFKA_GROUP_ID: `${runId}-group`,
  KAFKA_TOPIC_PARTITIONS: "3",
  CLICKHOUSE_URL: "",
  CLICKHOUSE_DATA_PATH: path.join(work, "chdb"),
  PROCESSOR_HTTP_PORT: String(port),
  PROCESSOR_CONSUMER_STAGGER_MS: "1500",
  BATCH_MAX_WAIT_MS: "200",
}
const script = (p: string) => path.join(root, p)
const kafkaSh = (command: string) => runCommand("bash", [script("scripts/kafka.sh"), command], env)
const log = (line: string) => Console.log(`[chaos +${((Date.now() - started) / 1_000).toFixed(1)}s] ${line}`)
let started = Date.now()

const startProcessor = (members: number): Proc =>
  startNode(
    `processor(${members})`,
    script("packages/processor/src/main.ts"),
    [],
    { ...env, PROCESSOR_CONSUMERS: String(members) },
    path.join(work, "processor.log"),
  )

/** Runs processors until `stop`: kills on schedule, restarts whatever dies. Returns the live one. */
const supervise = (
  killsAt: ReadonlyArray<number>,
  consumers: ReadonlyArray<number>,
  rate: number,
  current: Ref.Ref<Proc | undefined>,
  killsDone: Ref.Ref<number>,
) =>
  Effect.gen(function* () {
    let starts = 0
    let kills = 0
    for (;;) {
      const members = consumers[starts % consumers.length] ?? 1
      const proc = startProcessor(members)
      starts += 1
      yield* Ref.set(current, proc)
      yield* log(
        `processor started (pid ${proc.child.pid}, ${members} group member${members > 1 ? "s" : ""})`,
      )
      const killAt = killsAt[kills]
      // Kill at the scheduled moment, but only after this processor has visibly worked (about two
      // seconds of traffic ingested since it came up), so every kill lands mid-stream.
      const ingestedNow = queryRows(port, "SELECT count() AS n FROM raw_events").pipe(
        Effect.map((rows) => Number(rows[0]?.n ?? 0)),
      )
      const killWhenDue = Effect.gen(function* () {
        if (killAt === undefined) return yield* Effect.never
        yield* waitHealthy(port)
        const atStart = yield* ingestedNow
        yield* ingestedNow.pipe(
          Effect.filterOrFail(
            (n) => n >= atStart + 2 * rate,
            () => new ChaosError({ message: "no progress yet" }),
          ),
          Effect.retry(Sched.spaced("200 millis").pipe(Sched.upTo("30 seconds"))),
          Effect.ignore,
        )
        const due = Math.max(killAt, Date.now() - started) + Math.floor(jitter() * 1_500)
        yield* Effect.sleep(Duration.millis(due - (Date.now() - started)))
        return { _tag: "kill" as const }
      })
      const outcome = yield* Effect.race(
        Effect.map(waitExit(proc), (code) => ({ _tag: "exited" as const, code })),
        killWhenDue,
      )
      if (outcome._tag === "kill") {
        const ingested = yield* queryRows(port, "SELECT count() AS n FROM raw_events FINAL").pipe(
          Effect.map((rows) => String(rows[0]?.n ?? "?")),
          Effect.orElseSucceed(() => "?"),
        )
        proc.child.kill("SIGKILL")
        yield* waitExit(proc)
        kills += 1
        yield* Ref.set(killsDone, kills)
        yield* log(
          `SIGKILL ${kills}/${killsAt.length} (pid ${proc.child.pid}) with ${ingested} distinct events ingested`,
        )
        yield* Effect.sleep(Duration.millis(300 + Math.floor(jitter() * 1_200)))
      } else {
        yield* log(`processor exited by itself (${outcome.code}); restarting`)
        yield* Effect.sleep("1 second")
      }
    }
  })

const program = Effect.gen(function* () {
  if (profile === undefined)
    return yield* new ChaosError({ message: `PROFILE must be one of ${Object.keys(profiles).join(", ")}` })
  const schedule = makeSchedule(profile, seed)
  const truthFile = path.join(work, "truth.jsonl")
  yield* Console.log(
    `chaos profile=${profile.name} seed=${seed} events=${profile.events} rate=${profile.rate}/s kills=${schedule.killsAt.length} broker-restart=${schedule.brokerRestartAt !== undefined} work=${work}`,
  )
  yield* Effect.acquireRelease(kafkaSh("start"), () => kafkaSh("clean").pipe(Effect.ignore))
  yield* runNode(script("packages/cli/src/main.ts"), ["ddl"], env)

  started = Date.now()
  const current = yield* Ref.make<Proc | undefined>(undefined)
  const killsDone = yield* Ref.make(0)
  const supervisor = yield* Effect.fork(
    supervise(schedule.killsAt, schedule.consumers, profile.rate, current, killsDone),
  )
  yield* Effect.addFinalizer(() =>
    Fiber.interrupt(supervisor).pipe(
      Effect.zipRight(Ref.get(current)),
      Effect.flatMap((p) => Effect.sync(() => p?.child.exitCode === null && p.child.kill("SIGKILL"))),
    ),
  )
  const producer = yield* scopedNode(
    "producer",
    script("packages/producer/src/main.ts"),
    [
      "--total",
      String(profile.events),
      "--rate",
      String(profile.rate),
      "--duplicates",
      String(profile.duplicateRatio),
      "--malformed",
      String(profile.malformedRatio),
      "--truth",
      truthFile,
      "--seed",
      String(seed),
    ],
    env,
    path.join(work, "producer.log"),
  )
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
      }).pipe(Effect.orDie),
    )
  }
  const producerExit = yield* waitExit(producer)
  yield* log(`producer finished (exit ${producerExit})`)
  if (producerExit !== 0)
    return yield* new ChaosError({ message: `producer failed; see ${work}/producer.log` })
  const expected = yield* Effect.promise(() => readTruth(truthFile))

  // Let the kills still due happen (the backlog keeps the processor busy), then wait until the
  // live processor has caught up.
  yield* Ref.get(killsDone).pipe(
    Effect.filterOrFail(
      (n) => n >= schedule.killsAt.length,
      () => new ChaosError({ message: "kills pending" }),
    ),
    Effect.retry(Sched.spaced("500 millis").pipe(Sched.upTo("240 seconds"))),
  )
  yield* waitHealthy(port)
  yield* log(`catching up to ${expected.validDistinct} distinct valid events`)
  yield* queryRows(port, "SELECT count() AS n FROM raw_events FINAL").pipe(
    Effect.flatMap((rows) =>
      Number(rows[0]?.n) >= expected.validDistinct
        ? Effect.void
        : Effect.fail(new ChaosError({ message: `caught up to ${rows[0]?.n}` })),
    ),
    Effect.retry(Sched.spaced("1 second").pipe(Sched.upTo("180 seconds"))),
    Effect.catchAll((e) => log(`not caught up: ${e.message}`)),
  )
  yield* Effect.sleep("3 seconds")
  const kafka = makeKafka({
    brokers: [String(env.KAFKA_BROKERS)],
    clientId: "chaos",
    topic: String(env.KAFKA_TOPIC),
    dlqTopic: String(env.KAFKA_DLQ_TOPIC),
    groupId: "chaos",
    partitions: 3,
  })
  const observed = yield* observe(port, kafka, String(env.KAFKA_TOPIC), String(env.KAFKA_DLQ_TOPIC))
  const result = compare(expected, observed)
  yield* Console.log(`\n${result.report}\n`)
  yield* Console.log(
    `chaos ${result.ok ? "PASSED" : "FAILED"}: ${expected.sent} sent (${expected.duplicates} duplicates, ${expected.malformed} malformed), ${schedule.killsAt.length} SIGKILLs, broker restarted ${schedule.brokerRestartAt === undefined ? "0" : "1"}x; logs in ${work}`,
  )
  if (!result.ok) return yield* new ChaosError({ message: "ClickHouse differs from the ground truth" })
})

program.pipe(Effect.scoped, NodeRuntime.runMain)
