import * as path from "node:path"
import { describe, expect, it } from "@effect/vitest"
import {
  applyMigrations,
  ClickHouse,
  ClickHouseError,
  ClickHouseLive,
  ensureAppTopics,
  KafkaClient,
  KafkaClientLive,
  kafkaTry,
} from "@rtoa/core"
import { repoRoot, settledRead, tempDir, testConfig, uniqueName } from "@rtoa/core/test/support/it.ts"
import { ClickHouseSinkLive, defaultRetry, EventSink } from "@rtoa/pipeline"
import { Duration, Effect, Fiber, Layer, Ref, Schedule } from "effect"
import { Partitioners } from "kafkajs"
import { runUntilInterrupted } from "../src/app.ts"
import * as Health from "../src/health.ts"
import * as KafkaDeadLetters from "../src/kafka-dead-letters.ts"
import * as KafkaSource from "../src/kafka-source.ts"
import { Metrics, MetricsLive } from "../src/metrics.ts"
import { PipelineObserverLive } from "../src/pipeline-observer.ts"
import { pipelineDefaults } from "./fixtures.ts"

const OUTAGE = Duration.seconds(30)
const EVENTS = 60_000
const base = Math.floor((Date.now() - 5 * 60_000) / 60_000) * 60_000

/** The real ClickHouse sink behind a switch: while `down` is set, every write fails as unavailable. */
const flakySink = (down: Ref.Ref<boolean>) =>
  Layer.effect(
    EventSink,
    Effect.map(EventSink, (real) => ({
      write: (batch) =>
        Effect.flatMap(Ref.get(down), (isDown) =>
          isDown
            ? new ClickHouseError({ reason: "Unavailable", message: "simulated outage" })
            : real.write(batch),
        ),
    })),
  ).pipe(Layer.provide(ClickHouseSinkLive))

describe("ClickHouse outage", () => {
  it.live(
    "backs off, holds its offsets, buffers a bounded amount, then catches up with nothing lost",
    () => {
      const topic = uniqueName("outage")
      const groupId = uniqueName("outage-group")
      const env = {
        KAFKA_TOPIC: topic,
        KAFKA_DLQ_TOPIC: `${topic}-dlq`,
        KAFKA_GROUP_ID: groupId,
        CLICKHOUSE_DATA_PATH: path.join(tempDir("outage"), "chdb"),
      }
      return Effect.gen(function* () {
        const down = yield* Ref.make(true)
        const ch = yield* ClickHouse
        yield* applyMigrations(ch, path.join(repoRoot, "db"))
        yield* ensureAppTopics
        const { kafka } = yield* KafkaClient
        const metrics = yield* Metrics
        const health = yield* Health.Health
        yield* health.started

        const stages = Layer.mergeAll(
          KafkaSource.layer({
            queueCapacity: 2,
            // Small fetches (~400 records) make the bound below independent of machine speed.
            maxBytesPerPartition: 64 * 1024,
            minBytes: 1,
            maxWaitMs: 250,
            fromBeginning: true,
            sessionTimeoutMs: 10_000,
          }),
          flakySink(down),
          KafkaDeadLetters.layer({ maxPayloadBytes: 65_536 }),
          PipelineObserverLive,
        )
        const settings = {
          batchMaxRows: 1_000,
          batchMaxWait: Duration.millis(100),
          maxClockSkew: Duration.minutes(5),
          retry: defaultRetry,
          ...pipelineDefaults,
        }
        const processor = yield* Effect.fork(
          runUntilInterrupted(settings, 10_000).pipe(Effect.provide(stages)),
        )

        const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner })
        yield* kafkaTry("connect", () => producer.connect())
        // Small sends: the broker returns at least one whole record batch per fetch, so large
        // producer batches would make a fetch exceed maxBytesPerPartition.
        for (let i = 0; i < EVENTS; i += 500) {
          const messages = Array.from({ length: 500 }, (_, k) => {
            const n = i + k
            const event = {
              event_id: `outage-${n}`,
              user_id: `u-${n % 997}`,
              dimension_channel: "Web",
              event_time: base + (n % 120) * 1_000,
            }
            return { key: event.user_id, value: JSON.stringify(event) }
          })
          yield* kafkaTry("send", () => producer.send({ topic, messages, acks: -1 }))
        }
        yield* Effect.promise(() => producer.disconnect())

        yield* Effect.sleep(OUTAGE)
        yield* Effect.log(
          `after the outage: fetched ${metrics.fetched} of ${EVENTS}, ${metrics.sinkFailures} failed writes, ${metrics.consumed} committed`,
        )
        const admin = kafka.admin()
        yield* kafkaTry("connect", () => admin.connect())
        const committedDuring = yield* kafkaTry("offsets", () =>
          admin.fetchOffsets({ groupId, topics: [topic] }),
        )
        // Nothing committed: every partition still at the group's initial "-1".
        expect(committedDuring[0]?.partitions.every((p) => p.offset === "-1")).toBe(true)
        expect(metrics.consumed).toBe(0)
        // Backoff, not a hot loop: 100 ms doubling, capped at 5 s, is about a dozen tries in 30 s.
        expect(metrics.sinkFailures).toBeGreaterThanOrEqual(5)
        expect(metrics.sinkFailures).toBeLessThanOrEqual(20)
        // Bounded buffering: the stalled pipeline holds a few fetches (queue, one blocked offer
        // per partition, the batch being retried), not the backlog: a few thousand records here.
        expect(metrics.fetched).toBeLessThan(EVENTS / 5)
        // Health tells the truth: backing off, since the outage began, with the engine's message.
        const during = yield* health.snapshot
        expect(during).toMatchObject({
          state: "backing_off",
          reason: expect.stringMatching(/simulated outage/),
        })

        yield* Ref.set(down, false)
        yield* ch.query<{ n: string }>("SELECT count() AS n FROM raw_events FINAL").pipe(
          Effect.filterOrFail(
            (rows) => Number(rows[0]?.n) === EVENTS,
            (rows) => `only ${rows[0]?.n} rows`,
          ),
          Effect.retry(Schedule.spaced("250 millis").pipe(Schedule.upTo("90 seconds"))),
        )
        // The sink writes raw_events, then the minute states: the last batch's second insert may
        // still be running when the raw count is complete, so wait for the states' total too (and
        // after 30 s assert on what is there).
        const minuteStates = ch.query<{ events: string; users: string }>(
          "SELECT uniqExactMerge(event_count_state) AS events, uniqMerge(unique_users_state) AS users FROM metrics_minutely GROUP BY time_window ORDER BY time_window",
        )
        const perMinute = yield* settledRead(
          minuteStates,
          (rows) => rows.reduce((n, r) => n + Number(r.events), 0) === EVENTS,
        )
        expect(perMinute.map((r) => Number(r.events))).toEqual([EVENTS / 2, EVENTS / 2])
        expect(perMinute.map((r) => Number(r.users))).toEqual([997, 997])

        expect((yield* health.snapshot).state).toBe("running")
        yield* Fiber.interrupt(processor)
        const ends = yield* kafkaTry("ends", () => admin.fetchTopicOffsets(topic))
        const committed = yield* kafkaTry("offsets", () => admin.fetchOffsets({ groupId, topics: [topic] }))
        yield* Effect.promise(() => admin.disconnect())
        const byPartition = new Map(committed[0]?.partitions.map((p) => [p.partition, p.offset]))
        for (const end of ends) expect(byPartition.get(end.partition)).toBe(end.high)
      }).pipe(
        Effect.provide(
          Layer.mergeAll(
            ClickHouseLive,
            KafkaClientLive,
            Health.layer({ stallTimeout: Duration.seconds(30) }),
          ).pipe(Layer.provideMerge(MetricsLive)),
        ),
        Effect.provide(testConfig(env)),
        Effect.scoped,
      )
    },
    180_000,
  )
})
