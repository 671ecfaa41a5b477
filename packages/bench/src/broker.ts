import * as fs from "node:fs"
import * as path from "node:path"
import { closeQuietly, type KafkaError, kafkaTry, makeKafka } from "@rtoa/core"
import { Effect, type Scope } from "effect"
import type { Admin, Kafka } from "kafkajs"
import { type BenchError, runCommand } from "./procs.ts"

/**
 * The bench's own Kafka broker (scripts/kafka.sh with its own DATA_DIR and port), started for the
 * scope and stopped and deleted on release, plus the admin calls the harness needs.
 */

export interface Broker {
  readonly bootstrap: string
  readonly kafka: Kafka
  readonly admin: Admin
  /** The broker JVM's pid (for its CPU share). */
  readonly pid: number
}

export const scopedBroker = (
  root: string,
  dataDir: string,
  port: number,
): Effect.Effect<Broker, BenchError | KafkaError, Scope.Scope> =>
  Effect.gen(function* () {
    const bootstrap = `127.0.0.1:${port}`
    const env = { ...process.env, DATA_DIR: dataDir, KAFKA_BROKERS: bootstrap, KAFKA_HEAP: "-Xms512m -Xmx1g" }
    const sh = (command: string) => runCommand("bash", [path.join(root, "scripts/kafka.sh"), command], env)
    yield* Effect.acquireRelease(sh("start"), () =>
      sh("stop").pipe(
        Effect.zipRight(
          Effect.sync(() => fs.rmSync(path.join(dataDir, "kafka"), { recursive: true, force: true })),
        ),
        Effect.ignore,
      ),
    )
    const pid = Number(fs.readFileSync(path.join(dataDir, "kafka", "kafka.pid"), "utf8").trim())
    const kafka = makeKafka({
      brokers: [bootstrap],
      clientId: "rtoa-bench",
      topic: "unused",
      dlqTopic: "unused",
      groupId: "unused",
      partitions: 3,
    })
    const admin = yield* Effect.acquireRelease(
      Effect.gen(function* () {
        const a = kafka.admin()
        yield* kafkaTry("admin.connect", () => a.connect())
        return a
      }),
      (a) => closeQuietly("the bench admin client", () => a.disconnect()),
    )
    return { bootstrap, kafka, admin, pid }
  })

/** Creates an empty topic and commits offset 0 for `groups`, so every consumer reads it all. */
export const freshTopic = (
  broker: Broker,
  topic: string,
  partitions: number,
  groups: ReadonlyArray<string>,
) =>
  Effect.gen(function* () {
    yield* kafkaTry("admin.createTopics", () =>
      broker.admin.createTopics({ waitForLeaders: true, topics: [{ topic, numPartitions: partitions }] }),
    )
    yield* Effect.forEach(groups, (group) => presetGroup(broker, topic, partitions, group), { discard: true })
  })

/**
 * Commits offset 0 on every partition for a group that has never run. ClickHouse's Kafka engine
 * starts a group without committed offsets at the end of the log (librdkafka's default), which
 * would skip a backlog; with this it reads from the start like the processor (fromBeginning).
 */
export const presetGroup = (broker: Broker, topic: string, partitions: number, group: string) =>
  kafkaTry("admin.setOffsets", () =>
    broker.admin.setOffsets({
      groupId: group,
      topic,
      partitions: Array.from({ length: partitions }, (_, partition) => ({ partition, offset: "0" })),
    }),
  )

/** Records in the topic (sum of high watermarks; topics here are never compacted or trimmed). */
export const topicEnd = (broker: Broker, topic: string) =>
  kafkaTry("admin.fetchTopicOffsets", () => broker.admin.fetchTopicOffsets(topic)).pipe(
    Effect.map((parts) => parts.reduce((n, p) => n + Number(p.high), 0)),
  )

/** Records not yet committed by the group: high watermark - committed offset, summed. */
export const groupLag = (broker: Broker, topic: string, group: string) =>
  Effect.gen(function* () {
    const ends = yield* kafkaTry("admin.fetchTopicOffsets", () => broker.admin.fetchTopicOffsets(topic))
    const committed = yield* kafkaTry("admin.fetchOffsets", () =>
      broker.admin.fetchOffsets({ groupId: group, topics: [topic] }),
    )
    const at = new Map<number, number>()
    for (const t of committed)
      for (const p of t.partitions) at.set(p.partition, Math.max(0, Number(p.offset)))
    return ends.reduce((lag, p) => lag + Math.max(0, Number(p.high) - (at.get(p.partition) ?? 0)), 0)
  })
