import { KafkaClient, type KafkaConfig } from "@rtoa/core"
import { brokers } from "@rtoa/core/test/support/it.ts"
import {
  type GeneratedMessage,
  type HostileCase,
  hostileCorpus,
  KafkaSinkLive,
  MessageSink,
} from "@rtoa/producer"
import { Effect, Layer } from "effect"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import {
  endOffsets,
  eventually,
  kcatProduce,
  kcatProduceLines,
  type LiveProcessor,
  startLiveProcessor,
} from "./support/live-processor.ts"

/**
 * The hostile-input suite: the real processor (a child process) on the real broker and engine,
 * fed by kcat (librdkafka, every codec) and by the project's producer. Whatever comes in, the
 * process never exits, every valid record is stored once, every refused one is dead-lettered with
 * its reason, nothing is committed before it is stored or dead-lettered, and good records keep
 * flowing right behind poison ones.
 */

const CODECS = ["none", "gzip", "snappy", "lz4", "zstd"] as const
let processor: LiveProcessor

beforeAll(async () => {
  processor = await startLiveProcessor("hostile", { KAFKA_TOPIC_PARTITIONS: "1", BATCH_MAX_ROWS: "2000" })
}, 120_000)

afterAll(async () => {
  await processor?.stop()
})

const idList = (ids: ReadonlyArray<string>) => ids.map((id) => `'${id.replace(/'/g, "\\'")}'`).join(",")

/** Rows per event_id in raw_events FINAL, and where each came from. */
const storedRows = async (ids: ReadonlyArray<string>) =>
  processor.rows(
    `SELECT event_id, count() AS n, any(kafka_offset) AS offset FROM raw_events FINAL WHERE event_id IN (${idList(ids)}) GROUP BY event_id`,
  )

const lettersAt = async (from: number) =>
  (await processor.deadLetters()).filter((l) => Number(l.headers["dlq.source.offset"]) >= from)

/** Waits for the corpus sent from `start` to be fully accounted for, then checks every case. */
const expectCorpusHandled = async (cases: ReadonlyArray<HostileCase>, start: number) => {
  const storedIds = cases.flatMap((c) => (c.expect === "stored" && c.eventId ? [c.eventId] : []))
  const refusedCount = cases.filter((c) => c.expect !== "stored").length
  // On a timeout the per-case checks below say which case is missing.
  await eventually(
    "every case stored or dead-lettered",
    async () => {
      const [rows, letters] = await Promise.all([storedRows(storedIds), lettersAt(start)])
      return rows.length === storedIds.length &&
        new Set(letters.map((l) => l.headers["dlq.source.offset"])).size >= refusedCount
        ? true
        : undefined
    },
    30_000,
  ).catch(() => undefined)
  const rows = new Map((await storedRows(storedIds)).map((r) => [String(r.event_id), r]))
  const letters = new Map((await lettersAt(start)).map((l) => [Number(l.headers["dlq.source.offset"]), l]))
  for (const [i, c] of cases.entries()) {
    const offset = start + i
    if (c.expect === "stored") {
      const row = rows.get(c.eventId ?? "")
      expect(row, `${c.name} stored`).toBeDefined()
      expect(Number(row?.n), `${c.name} stored once`).toBe(1)
      expect(Number(row?.offset), `${c.name} from its own position`).toBe(offset)
      expect(letters.has(offset), `${c.name} not dead-lettered`).toBe(false)
    } else {
      expect(letters.get(offset)?.headers["dlq.reason"], `${c.name} at offset ${offset}`).toBe(c.expect)
    }
  }
  expect(processor.alive(), processor.log().slice(-2_000)).toBe(true)
}

/** Everything below the committed offset is stored or dead-lettered (commit after ack). */
const expectCommittedAccountedFor = async () => {
  const committed = (await processor.committed()).get(0) ?? -1
  const [stored, letters] = await Promise.all([
    processor.rows("SELECT DISTINCT kafka_offset AS offset FROM raw_events"),
    processor.deadLetters(),
  ])
  const done = new Set([
    ...stored.map((r) => Number(r.offset)),
    ...letters.map((l) => Number(l.headers["dlq.source.offset"])),
  ])
  for (let offset = 0; offset < committed; offset++)
    expect(done.has(offset), `offset ${offset} committed but not stored`).toBe(true)
}

const nextOffset = async () => (await endOffsets(processor.kafka, processor.topic)).get(0) ?? 0

const sendWithProducer = (
  messages: ReadonlyArray<GeneratedMessage>,
  compression: (typeof CODECS)[number],
) => {
  const config: KafkaConfig = {
    brokers: brokers.split(","),
    clientId: "hostile-producer",
    topic: processor.topic,
    dlqTopic: processor.dlqTopic,
    groupId: "unused",
    partitions: 1,
  }
  return Effect.runPromise(
    Effect.gen(function* () {
      const sink = yield* MessageSink
      // One send per record keeps positions in corpus order.
      for (const m of messages) yield* sink.send([m])
    }).pipe(
      Effect.provide(
        KafkaSinkLive({ compression }).pipe(
          Layer.provide(Layer.succeed(KafkaClient, { kafka: processor.kafka, config })),
        ),
      ),
      Effect.scoped,
    ),
  )
}

describe("hostile-input suite (real processor, broker and engine)", () => {
  it("kcat (librdkafka) in every codec: each case stored once or dead-lettered with its reason", async () => {
    const cases = hostileCorpus(`kcat-${Date.now()}`, Date.now())
    const start = await nextOffset()
    await kcatProduce(processor.topic, cases, (i) => CODECS[i % CODECS.length] ?? "none")
    await expectCorpusHandled(cases, start)
    await expectCommittedAccountedFor()
  })

  it("the project's producer (kafkajs): the same corpus, the same outcome", async () => {
    const cases = hostileCorpus(`kjs-${Date.now()}`, Date.now())
    const start = await nextOffset()
    await sendWithProducer(
      cases.map((c) => ({
        key: c.key,
        value: c.value,
        ...(c.headers ? { headers: c.headers } : {}),
        kind: "malformed",
      })),
      "zstd",
    )
    await expectCorpusHandled(cases, start)
  })

  it("good records keep flowing within a few seconds of a poison one", async () => {
    const corpus = hostileCorpus(`flow-${Date.now()}`, Date.now())
    for (const name of [
      "lone_surrogate_dimension",
      "properties_5000_deep",
      "event_id_20000_deep",
      "bad_utf8",
    ]) {
      const poison = corpus.find((c) => c.name === name)
      const good = corpus.find((c) => c.name === "plain")
      if (poison === undefined || good === undefined) throw new Error(`no case ${name}`)
      const id = `${good.eventId}-after-${name}`
      const value = Buffer.from(String(good.value).replace(String(good.eventId), id))
      const sent = Date.now()
      await kcatProduce(processor.topic, [poison, { ...good, value }])
      await eventually(
        `the good record after ${name}`,
        async () => ((await storedRows([id])).length === 1 ? true : undefined),
        10_000,
      )
      expect(Date.now() - sent, `good record after ${name}`).toBeLessThan(5_000)
    }
    expect(processor.alive()).toBe(true)
    expect((await processor.get("/ready")).status).toBe(200)
  })
})

describe("the issue's poison table, one regression test per row", () => {
  const valid = (id: string, eventTime: string | number) =>
    JSON.stringify({ event_id: id, user_id: "u-table", dimension_channel: "Web", event_time: eventTime })

  it("a zstd-compressed batch (librdkafka) is read, not a crash loop", async () => {
    const ids = Array.from({ length: 50 }, (_, i) => `zstd-${Date.now()}-${i}`)
    await kcatProduceLines(
      processor.topic,
      ids.map((id) => valid(id, new Date().toISOString())),
      "zstd",
    )
    await eventually("50 zstd events stored", async () =>
      (await storedRows(ids)).length === 50 ? true : undefined,
    )
    expect(processor.alive()).toBe(true)
  })

  it("a lone surrogate in dimension_channel is dead-lettered; the batch around it is stored; /ready tells the truth", async () => {
    const stamp = Date.now()
    const ids = Array.from({ length: 20 }, (_, i) => `surrogate-${stamp}-${i}`)
    const lines = ids.map((id) => valid(id, new Date().toISOString()))
    lines.splice(
      10,
      0,
      valid(`surrogate-${stamp}-bad`, new Date().toISOString()).replace('"Web"', '"\\ud800"'),
    )
    const start = await nextOffset()
    await kcatProduceLines(processor.topic, lines, "gzip")
    await eventually("the batch around the surrogate stored", async () =>
      (await storedRows(ids)).length === 20 ? true : undefined,
    )
    // The dead letter and the rows are written in parallel: the rows may show first.
    const letter = await eventually("the surrogate dead-lettered", async () =>
      (await lettersAt(start)).find((l) => l.headers["dlq.source.offset"] === String(start + 10)),
    )
    expect(letter.headers["dlq.reason"]).toBe("invalid_encoding")
    const ready = await processor.get("/ready")
    expect(ready.status).toBe(200)
    expect(JSON.parse(ready.body)).toMatchObject({ state: "running" })
  })

  it("events spread over 120 days (and over three years) in one batch all go in", async () => {
    const stamp = Date.now()
    const day = 86_400_000
    const ids = Array.from({ length: 120 }, (_, i) => `backfill-${stamp}-${i}`)
    const years = Array.from({ length: 1_100 }, (_, i) => `backfill3y-${stamp}-${i}`)
    await kcatProduceLines(
      processor.topic,
      ids.map((id, i) => valid(id, stamp - i * day)),
      "none",
    )
    await kcatProduceLines(
      processor.topic,
      years.map((id, i) => valid(id, stamp - i * day)),
      "gzip",
    )
    await eventually("120 days stored", async () =>
      (await storedRows(ids)).length === 120 ? true : undefined,
    )
    await eventually("three years stored", async () => {
      const [r] = await processor.rows(
        `SELECT count() AS n FROM raw_events FINAL WHERE event_id LIKE 'backfill3y-${stamp}-%'`,
      )
      return Number(r?.n) === 1_100 ? true : undefined
    })
  })

  it("properties nested 5,000 deep are dead-lettered (too_deep), not a crash loop", async () => {
    const start = await nextOffset()
    const deep = `${'{"a":'.repeat(5_000)}1${"}".repeat(5_000)}`
    await kcatProduce(processor.topic, [
      {
        key: null,
        value: Buffer.from(valid(`deep-${Date.now()}`, Date.now()).replace(/}$/, `,"properties":${deep}}`)),
      },
    ])
    const letter = await eventually("the deep record dead-lettered", async () => (await lettersAt(start))[0])
    expect(letter.headers["dlq.reason"]).toBe("too_deep")
    expect(processor.alive()).toBe(true)
  })

  it("an event_id nested 20,000 deep is dead-lettered (too_deep), not a stack overflow", async () => {
    const start = await nextOffset()
    const value = valid("x", Date.now()).replace('"x"', `${"[".repeat(20_000)}1${"]".repeat(20_000)}`)
    await kcatProduce(processor.topic, [{ key: null, value: Buffer.from(value) }])
    const letter = await eventually("the deep id dead-lettered", async () => (await lettersAt(start))[0])
    expect(letter.headers["dlq.reason"]).toBe("too_deep")
    expect(processor.alive()).toBe(true)
  })

  it("2,500 invalid 1 KB records in one burst are all dead-lettered and the good records behind them arrive", async () => {
    const stamp = Date.now()
    const start = await nextOffset()
    const bad = Array.from({ length: 2_500 }, (_, i) =>
      JSON.stringify({ event_id: `bad-${i}`, pad: "x".repeat(1_000) }),
    )
    const good = Array.from({ length: 10 }, (_, i) => `after-burst-${stamp}-${i}`)
    await kcatProduceLines(processor.topic, [...bad, ...good.map((id) => valid(id, stamp))], "none")
    await eventually(
      "the good records after the burst",
      async () => ((await storedRows(good)).length === 10 ? true : undefined),
      60_000,
    )
    const letters = await eventually("2,500 dead letters", async () => {
      const l = await lettersAt(start)
      return l.length >= 2_500 ? l : undefined
    })
    expect(new Set(letters.map((l) => l.headers["dlq.source.offset"])).size).toBe(2_500)
    expect(letters.every((l) => l.headers["dlq.reason"] === "invalid")).toBe(true)
    await expectCommittedAccountedFor()
  })
})
