import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { NodeRuntime } from "@effect/platform-node"
import { findWorkspaceRoot, makeKafka } from "@rtoa/core"
import { Console, Effect } from "effect"
import { groupLag } from "../src/catchup.ts"
import { groupProgress, queryRows, readDeadLetters, readEventsTopic, waitHealthy } from "../src/observe.ts"
import { runCommand, runNode, startNode, waitExit } from "../src/procs.ts"

/**
 * Experiment, not part of the suite (node packages/chaos/scripts/kill-window.ts, ~40 s per
 * attempt, ATTEMPTS=5): does "raw_events FINAL holds every event, then 3 s" mean the processor
 * is done? A backlog is produced first, a processor works through it and is SIGKILLed the moment
 * the row count is complete; a new processor (3 members) starts and, 3 s later (where the suite
 * used to compare), metrics and dead letters are counted, then again once committed = end.
 */
const root = findWorkspaceRoot()
const work = fs.mkdtempSync(path.join(os.tmpdir(), "rtoa-killwindow-"))
const port = Number(process.env.CHAOS_HTTP_PORT ?? 18_724)
const brokers = `127.0.0.1:${process.env.CHAOS_KAFKA_PORT ?? 19_692}`
const attempts = Number(process.env.ATTEMPTS ?? 5)
const base: NodeJS.ProcessEnv = { ...process.env, RTOA_HOME: root, DATA_DIR: path.join(work, "kafka-data") }
const script = (p: string) => path.join(root, p)
const kafkaSh = (c: string) =>
  runCommand("bash", [script("scripts/kafka.sh"), c], { ...base, KAFKA_BROKERS: brokers })
const count = (sql: string) =>
  queryRows(port, sql, 5_000).pipe(
    Effect.map((r) => Number(r[0]?.n ?? 0)),
    Effect.orElseSucceed(() => -1),
  )
const metricsEvents =
  "SELECT sum(e) AS n FROM (SELECT uniqExactMerge(event_count_state) AS e FROM metrics_minutely GROUP BY time_window)"

const attempt = (n: number) =>
  Effect.gen(function* () {
    const id = `kw-${Date.now()}-${n}`
    const topic = `${id}-events`
    const dlqTopic = `${id}-dlq`
    const groupId = `${id}-group`
    const env: NodeJS.ProcessEnv = {
      ...base,
      KAFKA_BROKERS: brokers,
      KAFKA_TOPIC: topic,
      KAFKA_DLQ_TOPIC: dlqTopic,
      KAFKA_GROUP_ID: groupId,
      KAFKA_TOPIC_PARTITIONS: "3",
      CLICKHOUSE_URL: "",
      CLICKHOUSE_DATA_PATH: path.join(work, `chdb-${n}`),
      PROCESSOR_HTTP_PORT: String(port),
    }
    const kafka = makeKafka({
      brokers: [brokers],
      clientId: "kw",
      topic,
      dlqTopic,
      groupId: "kw",
      partitions: 3,
    })
    yield* runNode(script("packages/cli/src/main.ts"), ["ddl"], env)
    const producer = startNode(
      "producer",
      script("packages/producer/src/main.ts"),
      ["--total", "30000", "--rate", "30000", "--duplicates", "0.05", "--malformed", "0.01"],
      env,
      path.join(work, "producer.log"),
    )
    yield* waitExit(producer)
    const p1 = startNode(
      "p1",
      script("packages/processor/src/main.ts"),
      [],
      env,
      path.join(work, `processor-${n}.log`),
    )
    yield* waitHealthy(port)
    const { malformed, events } = yield* readEventsTopic(kafka, topic)
    const target = events.size
    // Kill the moment the row count is complete: the suite's old "caught up" condition.
    for (;;) {
      if ((yield* count("SELECT count() AS n FROM raw_events FINAL")) >= target) break
      yield* Effect.sleep("5 millis")
    }
    p1.child.kill("SIGKILL")
    yield* waitExit(p1)
    const lagAtKill = groupLag(yield* groupProgress(kafka, groupId, topic))
    const p2 = startNode(
      "p2",
      script("packages/processor/src/main.ts"),
      [],
      { ...env, PROCESSOR_CONSUMERS: "3", PROCESSOR_CONSUMER_STAGGER_MS: "1500" },
      path.join(work, `processor-${n}.log`),
    )
    yield* waitHealthy(port)
    yield* Effect.sleep("3 seconds")
    const early = {
      raw: yield* count("SELECT count() AS n FROM raw_events FINAL"),
      metrics: yield* count(metricsEvents),
      deadLetters: (yield* readDeadLetters(kafka, dlqTopic)).positions.size,
      lag: groupLag(yield* groupProgress(kafka, groupId, topic)),
    }
    for (;;) {
      if (groupLag(yield* groupProgress(kafka, groupId, topic)) === 0) break
      yield* Effect.sleep("500 millis")
    }
    const late = {
      metrics: yield* count(metricsEvents),
      deadLetters: (yield* readDeadLetters(kafka, dlqTopic)).positions.size,
    }
    p2.child.kill("SIGKILL")
    yield* waitExit(p2)
    yield* Console.log(
      `attempt ${n}: target ${target} events, ${malformed.size} malformed; lag at kill ${lagAtKill}; ` +
        `3 s after restart: raw ${early.raw}, metrics ${early.metrics}, dead letters ${early.deadLetters}, lag ${early.lag}; ` +
        `after committed=end: metrics ${late.metrics}, dead letters ${late.deadLetters}` +
        (early.metrics < target || early.deadLetters < malformed.size
          ? "  <-- the old check would FAIL here"
          : ""),
    )
  })

const program = Effect.gen(function* () {
  yield* Console.log(`work ${work}`)
  yield* Effect.acquireRelease(kafkaSh("start"), () => kafkaSh("clean").pipe(Effect.ignore))
  for (let n = 1; n <= attempts; n++) yield* attempt(n)
})

program.pipe(Effect.scoped, NodeRuntime.runMain)
