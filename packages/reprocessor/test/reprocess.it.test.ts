import * as path from "node:path"
import { isDeepStrictEqual } from "node:util"
import { describe, expect, layer } from "@effect/vitest"
import {
  adminClient,
  applyMigrations,
  type ClickHouseClient,
  ClickHouseConfig,
  KafkaClient,
  KafkaClientLive,
  makeClickHouse,
} from "@rtoa/core"
import {
  brokers,
  repoRoot,
  settledRead,
  tempDir,
  testConfig,
  uniqueName,
} from "@rtoa/core/test/support/it.ts"
import { processorProgram } from "@rtoa/processor"
import { Context, Effect, Either, Fiber, Layer, Schedule } from "effect"
import { type Admin, Partitioners } from "kafkajs"
import {
  ReprocessKafkaLive,
  ReprocessLive,
  rebuildMetricsCommand,
  reprocessCommand,
} from "../src/commands.ts"
import { ProgressSilent } from "../src/progress.ts"
import { reprocess, reprocessDryRun } from "../src/reprocess.ts"
import { formatTime, type TimeRange } from "../src/time.ts"
import {
  bogusStates,
  deleteMetrics,
  kafkaStep,
  MINUTE,
  makeEvents,
  metrics,
  sqlWindow,
  type TestEvent,
  truth,
} from "./support.ts"

const topic = uniqueName("reproc-events")
const env = {
  KAFKA_BROKERS: brokers,
  KAFKA_TOPIC: topic,
  KAFKA_DLQ_TOPIC: `${topic}-dlq`,
  KAFKA_GROUP_ID: uniqueName("reproc-live"),
  KAFKA_TOPIC_PARTITIONS: "3",
  CLICKHOUSE_DATA_PATH: path.join(tempDir("reproc"), "chdb"),
  PROCESSOR_HTTP_PORT: String(20_000 + Math.floor(Math.random() * 20_000)),
  BATCH_MAX_WAIT_MS: "100",
  BATCH_MAX_ROWS: "500",
  // Tests never write the repo's own token file.
  PROCESSOR_HTTP_TOKEN: "test-token",
}
const config = testConfig(env)

// Ground truth: 1,200 events over 30 minutes, 45 minutes ago, each record's Kafka timestamp equal
// to its event_time; every 10th resent; 12 malformed records spread over the same time.
const T0 = Math.floor((Date.now() - 45 * MINUTE) / MINUTE) * MINUTE
const STEP = 1_500
const d1 = makeEvents("d1", 1_200, T0, STEP, 150)
const malformedAt = Array.from({ length: 12 }, (_, k) => T0 + k * 150_000)
const R: TimeRange = { fromMs: T0 + 10 * MINUTE, toMs: T0 + 20 * MINUTE }
const inR = (ms: number) => ms >= R.fromMs && ms < R.toMs
interface Message {
  readonly key: string | null
  readonly value: string
  readonly timestamp?: string
}
const d1Messages: ReadonlyArray<Message> = [
  ...d1.flatMap((e, i) => {
    const m = { key: e.user_id, value: JSON.stringify(e), timestamp: String(Date.parse(e.event_time)) }
    return i % 10 === 0 ? [m, m] : [m]
  }),
  ...malformedAt.map((t, k) => ({
    key: null,
    value: k % 2 === 0 ? "{broken" : JSON.stringify({ event_id: `bad-${k}` }),
    timestamp: String(t),
  })),
].sort((a, b) => Number(a.timestamp) - Number(b.timestamp))
/** Records whose Kafka timestamp lies in R: what a replay of R reads (valid, resent, malformed). */
const expectedInR = d1Messages.filter((m) => inR(Number(m.timestamp))).length

/** Events the live-ingestion test adds, for the tests after it. */
const d2Events: Array<TestEvent> = []

/** What the tests share: an assertion client on the engine and an admin client on the broker. */
class Harness extends Context.Tag("test/Harness")<
  Harness,
  { readonly ch: ClickHouseClient; readonly admin: Admin }
>() {}

const send = (messages: ReadonlyArray<Message>) =>
  Effect.gen(function* () {
    const { kafka } = yield* KafkaClient
    const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner })
    yield* kafkaStep("connect", () => producer.connect())
    for (let i = 0; i < messages.length; i += 300)
      yield* kafkaStep("send", () => producer.send({ topic, acks: -1, messages: messages.slice(i, i + 300) }))
    yield* kafkaStep("disconnect", () => producer.disconnect())
  })

const rawCount = (ch: ClickHouseClient) =>
  Effect.map(ch.query<{ n: string }>("SELECT count() AS n FROM raw_events FINAL"), (r) => Number(r[0]?.n))

const waitForRaw = (ch: ClickHouseClient, n: number) =>
  rawCount(ch).pipe(
    Effect.flatMap((c) => (c === n ? Effect.void : Effect.fail(`raw_events has ${c}, waiting for ${n}`))),
    Effect.retry(Schedule.spaced("200 millis").pipe(Schedule.upTo("45 seconds"))),
  )

// A complete raw count can still miss the last batch's states: read them until they match.
const settledMetrics = (ch: ClickHouseClient, expected: ReturnType<typeof truth>) =>
  settledRead(metrics(ch), (m) => isDeepStrictEqual(m, expected), "15 seconds")

/** Migrated store, the live processor running in this process, the topic seeded and ingested. */
const HarnessLive = Layer.scoped(
  Harness,
  Effect.gen(function* () {
    const ch = yield* Effect.flatMap(ClickHouseConfig, makeClickHouse)
    yield* applyMigrations(ch, path.join(repoRoot, "db"))
    yield* Effect.forkScoped(processorProgram)
    yield* Effect.tryPromise(() => fetch(`http://127.0.0.1:${env.PROCESSOR_HTTP_PORT}/health`)).pipe(
      Effect.retry(Schedule.spaced("200 millis").pipe(Schedule.upTo("30 seconds"))),
    )
    yield* send(d1Messages)
    yield* waitForRaw(ch, d1.length)
    const { kafka } = yield* KafkaClient
    return { ch, admin: yield* adminClient(kafka) }
  }),
).pipe(Layer.provideMerge(KafkaClientLive), Layer.provide(config))

const run = <A, E>(effect: Effect.Effect<A, E, Layer.Layer.Success<ReturnType<typeof ReprocessLive>>>) =>
  effect.pipe(Effect.provide(ReprocessLive(ProgressSilent)), Effect.provide(config))

const reprocessGroups = (admin: Admin) =>
  Effect.map(
    kafkaStep("listGroups", () => admin.listGroups()),
    (r) => r.groups.filter((g) => g.groupId.startsWith("rtoa-reprocess-")),
  )
const dlqRecords = (admin: Admin) =>
  Effect.map(
    kafkaStep("offsets", () => admin.fetchTopicOffsets(`${topic}-dlq`)),
    (ps) => ps.reduce((n, p) => n + Number(p.high), 0),
  )

describe("reprocess and rebuild-metrics against the real broker and embedded engine", () => {
  layer(HarnessLive, { timeout: "90 seconds", excludeTestServices: true })((it) => {
    it.effect("the live processor ingested the ground truth", () =>
      Effect.gen(function* () {
        const { ch, admin } = yield* Harness
        expect(yield* settledMetrics(ch, truth(d1))).toEqual(truth(d1))
        expect(yield* dlqRecords(admin)).toBe(malformedAt.length)
      }),
    )

    it.effect("a dry run prints the per-partition plan and writes nothing", () =>
      Effect.gen(function* () {
        const { ch } = yield* Harness
        // Lose the range: its metrics and its raw rows.
        yield* deleteMetrics(ch, sqlWindow(R.fromMs, R.toMs))
        yield* ch.command(
          `ALTER TABLE raw_events DELETE WHERE ${sqlWindow(R.fromMs, R.toMs, "event_time")} SETTINGS mutations_sync = 2`,
        )
        const before = { metrics: yield* metrics(ch), raw: yield* rawCount(ch) }
        expect(before.metrics).not.toEqual(truth(d1))
        expect(before.raw).toBe(d1.length - d1.filter((e) => inR(Date.parse(e.event_time))).length)

        const result = yield* reprocessDryRun(R).pipe(
          Effect.provide(ReprocessKafkaLive),
          Effect.provide(config),
        )
        expect(result.plan.total).toBe(expectedInR)
        expect(result.plan.partitions.map((p) => p.partition)).toEqual([0, 1, 2])
        expect(result.plan.partitions.reduce((n, p) => n + Number(p.end - p.start), 0)).toBe(expectedInR)
        expect(result.stats).toBeUndefined()
        expect({ metrics: yield* metrics(ch), raw: yield* rawCount(ch) }).toEqual(before)
      }),
    )

    it.effect(
      "reprocess restores the range exactly, leaves the live group alone, republishes no dead letter",
      () =>
        Effect.gen(function* () {
          const { ch, admin } = yield* Harness
          const liveOffsets = () =>
            kafkaStep("fetchOffsets", () =>
              admin.fetchOffsets({ groupId: env.KAFKA_GROUP_ID, topics: [topic] }),
            )
          const committedBefore = yield* liveOffsets()

          const result = yield* run(reprocess(R))
          expect(result.stats).toMatchObject({
            records: expectedInR,
            events: expectedInR - 4,
            deadLetters: { invalid: 2, undecodable: 2 },
          })
          expect(yield* metrics(ch)).toEqual(truth(d1))
          expect(yield* rawCount(ch)).toBe(d1.length)

          expect(yield* liveOffsets()).toEqual(committedBefore)
          expect(yield* dlqRecords(admin)).toBe(malformedAt.length)
          expect(yield* reprocessGroups(admin)).toEqual([])
        }),
    )

    it.effect("reprocessing the same range again changes nothing", () =>
      Effect.gen(function* () {
        const { ch } = yield* Harness
        const before = yield* metrics(ch)
        yield* run(reprocess(R))
        expect(yield* metrics(ch)).toEqual(before)
        expect(yield* rawCount(ch)).toBe(d1.length)
      }),
    )

    it.effect("reprocess while live ingestion continues into the same minutes stays exact", () =>
      Effect.gen(function* () {
        const { ch } = yield* Harness
        yield* deleteMetrics(ch, sqlWindow(R.fromMs, R.toMs))
        // Late events for the replayed minutes and current ones, produced now, while it replays.
        const d2: ReadonlyArray<TestEvent> = [
          ...makeEvents("d2-late", 300, R.fromMs + 500, 2_000, 150),
          ...makeEvents("d2-now", 300, Date.now() - MINUTE, 150, 150),
        ]
        const messages = d2.map((e) => ({ key: e.user_id, value: JSON.stringify(e) }))
        const producing = yield* Effect.fork(
          Effect.forEach([0, 100, 200, 300, 400, 500], (i) =>
            Effect.zipRight(Effect.sleep("50 millis"), send(messages.slice(i, i + 100))),
          ).pipe(Effect.provide(KafkaClientLive), Effect.provide(config)),
        )
        yield* run(reprocess(R))
        yield* Fiber.join(producing)
        yield* waitForRaw(ch, d1.length + d2.length)
        expect(yield* settledMetrics(ch, truth([...d1, ...d2]))).toEqual(truth([...d1, ...d2]))
        d2Events.push(...d2)
      }),
    )

    it.effect("bad ranges fail with a clear message and change nothing", () =>
      Effect.gen(function* () {
        const { ch, admin } = yield* Harness
        const before = { metrics: yield* metrics(ch), raw: yield* rawCount(ch) }
        const attempt = (from: string, to: string, cfg = config) =>
          Effect.flip(reprocessCommand({ from, to, dryRun: false }).pipe(Effect.provide(cfg)))

        const reversed = yield* attempt(formatTime(R.toMs), formatTime(R.fromMs))
        expect([reversed._tag, reversed.message]).toEqual([
          "InvalidRange",
          expect.stringMatching(/is after --to/),
        ])
        const unreadable = yield* attempt("last tuesday", formatTime(R.toMs))
        expect([unreadable._tag, unreadable.message]).toEqual([
          "InvalidTime",
          expect.stringMatching(/^--from "last tuesday"/),
        ])

        const old = yield* attempt(formatTime(T0 - 60 * MINUTE), formatTime(T0 - 50 * MINUTE))
        expect(old._tag).toBe("RangeOutsideTopic")
        expect(old.message).toMatch(
          new RegExp(
            `^nothing to reprocess, nothing was changed: the range ends .* before the oldest record still in topic ${topic} \\(${formatTime(T0)}, partition \\d offset 0\\)`,
          ),
        )
        const future = yield* attempt(
          formatTime(Date.now() + 60 * MINUTE),
          formatTime(Date.now() + 120 * MINUTE),
        )
        expect([future._tag, future.message]).toEqual([
          "RangeOutsideTopic",
          expect.stringMatching(
            /starts .* after the newest record in topic .* \(20\d\d-.*, partition \d offset \d+\)$/,
          ),
        ])
        const unknown = yield* attempt(
          formatTime(R.fromMs),
          formatTime(R.toMs),
          testConfig({ ...env, KAFKA_TOPIC: "no-such-topic" }),
        )
        expect(unknown.message).toMatch(/topic no-such-topic does not exist/)

        expect({ metrics: yield* metrics(ch), raw: yield* rawCount(ch) }).toEqual(before)
        expect(yield* reprocessGroups(admin)).toEqual([])
      }),
    )

    it.effect(
      "after retention deleted the records, reprocess refuses and rebuild-metrics restores exactly",
      () =>
        Effect.gen(function* () {
          const { ch, admin } = yield* Harness
          const R2: TimeRange = { fromMs: T0 + 25 * MINUTE, toMs: T0 + 35 * MINUTE }
          yield* bogusStates(ch, new Date(T0 + 26 * MINUTE).toISOString().slice(0, 19).replace("T", " "), 6)
          yield* deleteMetrics(
            ch,
            `time_window = toDateTime('${new Date(T0 + 27 * MINUTE).toISOString().slice(0, 19).replace("T", " ")}', 'UTC')`,
          )
          expect(yield* metrics(ch)).not.toEqual(truth([...d1, ...d2Events]))

          // "Retention": every record older than T0 + 36 min is deleted from the topic.
          const cut = yield* kafkaStep("offsetsByTime", () =>
            admin.fetchTopicOffsetsByTimestamp(topic, T0 + 36 * MINUTE),
          )
          yield* kafkaStep("deleteTopicRecords", () => admin.deleteTopicRecords({ topic, partitions: cut }))

          const refused = yield* Effect.flip(
            reprocessCommand({ from: formatTime(R2.fromMs), to: formatTime(R2.toMs), dryRun: false }).pipe(
              Effect.provide(config),
            ),
          )
          expect(refused.message).toMatch(/before the oldest record still in topic .*rebuild-metrics/)
          // A range reaching back past the cut warns that part of it is gone.
          const partial = yield* reprocessDryRun({
            fromMs: T0 + 30 * MINUTE,
            toMs: Date.now() + MINUTE,
          }).pipe(Effect.provide(ReprocessKafkaLive), Effect.provide(config))
          expect(partial.plan.total).toBe(d2Events.length)
          expect(partial.warnings.length).toBeGreaterThan(0)
          expect(partial.warnings[0]).toMatch(/older records were deleted by retention/)

          yield* rebuildMetricsCommand({
            from: formatTime(R2.fromMs),
            to: formatTime(R2.toMs),
            dryRun: false,
          }).pipe(Effect.provide(config))
          expect(yield* metrics(ch)).toEqual(truth([...d1, ...d2Events]))
          expect(
            Either.isRight(
              yield* Effect.either(
                rebuildMetricsCommand({
                  from: formatTime(R2.fromMs),
                  to: formatTime(R2.toMs),
                  dryRun: false,
                }).pipe(Effect.provide(config)),
              ),
            ),
          ).toBe(true)
          expect(yield* metrics(ch)).toEqual(truth([...d1, ...d2Events]))
        }),
    )
  })
})
