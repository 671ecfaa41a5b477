import * as path from "node:path"
import { describe, expect, it } from "@effect/vitest"
import { applyMigrations, ClickHouseConfig, kafkaTry, makeClickHouse, makeKafka } from "@rtoa/core"
import {
  brokers,
  repoRoot,
  settledRead,
  tempDir,
  testConfig,
  uniqueName,
} from "@rtoa/core/test/support/it.ts"
import { Duration, Effect, Fiber, Layer, Schedule } from "effect"
import { Partitioners } from "kafkajs"
import { processorProgram } from "../src/app.ts"

const MINUTE = 60_000
const base = Math.floor((Date.now() - 10 * MINUTE) / MINUTE) * MINUTE
const channels = ["Web", "Mobile", "API"] as const

/** Ground truth: 3,000 events over 3 minutes, 200 users, then resends and malformed messages. */
const valid = Array.from({ length: 3_000 }, (_, i) => ({
  event_id: `it-${i}`,
  user_id: `user-${(i * 7919) % 200}`,
  event_type: i % 10 === 0 ? "purchase" : "page_view",
  dimension_channel: channels[i % 3] ?? "Web",
  event_source: "it-test",
  event_time: new Date(base + (i % 3) * MINUTE + (i % 60) * 1_000).toISOString(),
}))
const duplicates = valid.filter((_, i) => i % 20 === 0)
const malformed = Array.from({ length: 30 }, (_, i) =>
  i % 3 === 0
    ? "{broken"
    : i % 3 === 1
      ? JSON.stringify({ event_id: `bad-${i}` })
      : JSON.stringify({ ...valid[0], event_time: "soon" }),
)

const truthPerMinute = () => {
  const perMinute = new Map<string, { events: Set<string>; users: Set<string> }>()
  for (const e of valid) {
    const minute = new Date(Math.floor(Date.parse(e.event_time) / MINUTE) * MINUTE)
      .toISOString()
      .slice(0, 19)
      .replace("T", " ")
    const m = perMinute.get(minute) ?? { events: new Set(), users: new Set() }
    m.events.add(e.event_id)
    m.users.add(e.user_id)
    perMinute.set(minute, m)
  }
  return [...perMinute]
    .map(([minute, m]) => ({ minute, events: m.events.size, users: m.users.size }))
    .sort((a, b) => b.minute.localeCompare(a.minute))
}

describe("processor against the real broker and embedded ClickHouse", () => {
  it.live("ingests exactly, dead-letters bad input, answers the spec's QA queries read-only", () => {
    const topic = uniqueName("it-events")
    const port = 20_000 + Math.floor(Math.random() * 20_000)
    const env = {
      KAFKA_TOPIC: topic,
      KAFKA_DLQ_TOPIC: `${topic}-dlq`,
      KAFKA_GROUP_ID: uniqueName("it-group"),
      KAFKA_TOPIC_PARTITIONS: "3",
      CLICKHOUSE_DATA_PATH: path.join(tempDir("proc"), "chdb"),
      PROCESSOR_HTTP_PORT: String(port),
      BATCH_MAX_WAIT_MS: "100",
      BATCH_MAX_ROWS: "500",
      // Two group members in one process: partitions are shared and rebalanced between them.
      PROCESSOR_CONSUMERS: "2",
      PROCESSOR_HTTP_TOKEN: "it-token",
    }
    const query = (sql: string, format = "JSONEachRow") =>
      Effect.promise(() =>
        fetch(`http://127.0.0.1:${port}/query?format=${format}`, {
          method: "POST",
          body: sql,
          headers: { authorization: "Bearer it-token" },
        }).then(async (r) => ({
          status: r.status,
          body: await r.text(),
        })),
      )
    const rows = (sql: string) =>
      query(sql).pipe(
        Effect.map((r) =>
          r.body
            .trim()
            .split("\n")
            .filter((l) => l !== "")
            .map((l) => JSON.parse(l) as Record<string, unknown>),
        ),
      )

    return Effect.gen(function* () {
      const chConfig = yield* ClickHouseConfig
      yield* Effect.scoped(
        Effect.flatMap(makeClickHouse(chConfig), (ch) => applyMigrations(ch, path.join(repoRoot, "db"))),
      )

      const processor = yield* Effect.fork(processorProgram)
      // Wait for the HTTP endpoint: the processor is up, topics exist.
      yield* Effect.tryPromise(() => fetch(`http://127.0.0.1:${port}/health`)).pipe(
        Effect.retry(Schedule.spaced("200 millis").pipe(Schedule.upTo("60 seconds"))),
      )

      const kafka = makeKafka({
        brokers: brokers.split(","),
        clientId: "it",
        topic,
        dlqTopic: `${topic}-dlq`,
        groupId: "x",
        partitions: 3,
      })
      const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner })
      yield* kafkaTry("connect", () => producer.connect())
      const messages = [
        ...valid.map((e) => ({ key: e.user_id, value: JSON.stringify(e) })),
        ...duplicates.map((e) => ({ key: e.user_id, value: JSON.stringify(e) })),
        ...malformed.map((value) => ({ key: null, value })),
      ]
      for (let i = 0; i < messages.length; i += 500) {
        yield* kafkaTry("send", () =>
          producer.send({ topic, messages: messages.slice(i, i + 500), acks: -1 }),
        )
      }
      yield* Effect.promise(() => producer.disconnect())

      // Ingested when raw_events holds every distinct event and the DLQ every malformed one.
      yield* rows("SELECT count() AS n FROM raw_events FINAL").pipe(
        Effect.flatMap((r) => (Number(r[0]?.n) === valid.length ? Effect.void : Effect.fail("not yet"))),
        Effect.retry(Schedule.spaced("250 millis").pipe(Schedule.upTo("60 seconds"))),
      )

      // The sink writes raw_events, then the minute states: wait for the states' total as well (the
      // last batch's second insert may still be running), then assert on what is there.
      const truthTotal = truthPerMinute().reduce((n, m) => n + m.events, 0)
      const minuteStates = rows(
        "SELECT time_window AS minute, uniqExactMerge(event_count_state) AS events, uniqMerge(unique_users_state) AS users FROM metrics_minutely GROUP BY minute ORDER BY minute DESC",
      )
      const perMinute = yield* settledRead(
        minuteStates,
        (r) => r.reduce((n, m) => n + Number(m.events), 0) === truthTotal,
      )
      expect(
        perMinute.map((r) => ({ minute: r.minute, events: Number(r.events), users: Number(r.users) })),
      ).toEqual(truthPerMinute())

      // The spec's QA manual, verbatim.
      const count = yield* query("SELECT count() FROM raw_events;", "TSV")
      expect(Number(count.body.trim())).toBeGreaterThanOrEqual(valid.length)
      const sample = yield* query("SELECT dimension_channel, event_source FROM raw_events LIMIT 5;", "TSV")
      const sampleRows = sample.body
        .trim()
        .split("\n")
        .map((l) => l.split("\t"))
      expect(sampleRows).toHaveLength(5)
      for (const [channel, source] of sampleRows) {
        expect(channels as ReadonlyArray<string>).toContain(channel)
        expect(source).toBe("it-test")
      }
      const qa = yield* query(
        "SELECT toStartOfMinute(time_window) AS minute_window, uniqMerge(unique_users_state) AS unique_users_count FROM metrics_minutely FINAL GROUP BY minute_window ORDER BY minute_window DESC;",
        "TSV",
      )
      expect(
        qa.body
          .trim()
          .split("\n")
          .map((l) => l.split("\t")),
      ).toEqual(truthPerMinute().map((m) => [m.minute, String(m.users)]))

      // Read-only: writes through the endpoint are refused and change nothing.
      const drop = yield* query("DROP TABLE raw_events", "TSV")
      expect(drop.status).toBe(400)
      expect(drop.body).toMatch(/readonly/i)
      expect((yield* query("EXISTS TABLE raw_events", "TSV")).body.trim()).toBe("1")

      // Dead letters: one per malformed message, counted in /metrics.
      const admin = kafka.admin()
      yield* kafkaTry("connect", () => admin.connect())
      const dlqOffsets = yield* kafkaTry("offsets", () => admin.fetchTopicOffsets(`${topic}-dlq`))
      expect(dlqOffsets.reduce((n, p) => n + Number(p.high), 0)).toBe(malformed.length)
      const metrics = yield* Effect.promise(() =>
        fetch(`http://127.0.0.1:${port}/metrics`, { headers: { authorization: "Bearer it-token" } }).then(
          (r) => r.text(),
        ),
      )
      const dlqTotal = [...metrics.matchAll(/^rtoa_dead_letters_total\{reason="\w+"\} (\d+)$/gm)].reduce(
        (n, m) => n + Number(m[1]),
        0,
      )
      expect(dlqTotal).toBe(malformed.length)
      expect(metrics).toMatch(/^rtoa_events_consumed_total (\d+)$/m)

      // Graceful stop commits everything it wrote: the group's offsets reach the end of each partition.
      yield* Fiber.interrupt(processor)
      const ends = yield* kafkaTry("offsets", () => admin.fetchTopicOffsets(topic))
      const committed = yield* kafkaTry("group offsets", () =>
        admin.fetchOffsets({ groupId: env.KAFKA_GROUP_ID, topics: [topic] }),
      )
      yield* Effect.promise(() => admin.disconnect())
      const committedByPartition = new Map(committed[0]?.partitions.map((p) => [p.partition, p.offset]))
      for (const end of ends) expect(committedByPartition.get(end.partition)).toBe(end.high)
    }).pipe(Effect.provide(Layer.mergeAll(testConfig(env))), Effect.timeout(Duration.minutes(2)))
  })
})
