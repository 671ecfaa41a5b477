import { describe, expect, it } from "vitest"
import { eventually, kcatProduceLines, startLiveProcessor } from "./support/live-processor.ts"

/**
 * The processor as a process when something is wrong that no retry can fix: it says what, and
 * either exits non-zero (start-up errors) or stops consuming and stays up to report it.
 */
describe("failure modes of the real processor", () => {
  it("a missing dead-letter topic is a clear start-up error and a non-zero exit", async () => {
    const processor = await startLiveProcessor(
      "nodlq",
      { KAFKA_CREATE_TOPICS: "false", KAFKA_TOPIC_PARTITIONS: "1" },
      { waitReady: false },
    )
    // The events topic exists; only the dead-letter one is missing.
    const admin = processor.kafka.admin()
    await admin.connect()
    await admin.createTopics({ topics: [{ topic: processor.topic, numPartitions: 1 }], waitForLeaders: true })
    await admin.disconnect()
    const code = await Promise.race([
      processor.proc.exited,
      new Promise((r) => setTimeout(() => r("still running"), 60_000)),
    ])
    expect(code).not.toBe(0)
    expect(code).not.toBe("still running")
    expect(processor.log()).toContain(`dead-letter topic "${processor.dlqTopic}" (KAFKA_DLQ_TOPIC) missing`)
    expect(processor.log()).not.toContain(`topic "${processor.topic}" (KAFKA_TOPIC)`)
  })

  it("an empty store (make ddl not run) is a clear start-up error and a non-zero exit", async () => {
    const processor = await startLiveProcessor("noddl", {}, { waitReady: false, ddl: false })
    const code = await Promise.race([
      processor.proc.exited,
      new Promise((r) => setTimeout(() => r("still running"), 60_000)),
    ])
    expect(code).toBe(1)
    expect(processor.log()).toMatch(/missing tables raw_events.*run `make ddl` first/)
  })

  it("over the dead-letter limit it stops consuming, reports failed, and stays up to say so", async () => {
    const processor = await startLiveProcessor("dlqlimit", {
      KAFKA_TOPIC_PARTITIONS: "1",
      DLQ_MAX_RATIO: "0.5",
      DLQ_RATIO_WINDOW: "100",
      BATCH_MAX_ROWS: "50",
    })
    try {
      const stamp = Date.now()
      const good = (i: number) =>
        JSON.stringify({
          event_id: `limit-${stamp}-${i}`,
          user_id: "u",
          event_time: new Date().toISOString(),
        })
      // 100 good records, then a bad deploy: 300 refused ones, then good ones again.
      await kcatProduceLines(
        processor.topic,
        Array.from({ length: 100 }, (_, i) => good(i)),
        "none",
      )
      await eventually("the first 100 stored", async () => {
        const [r] = await processor.rows(
          `SELECT count() AS n FROM raw_events WHERE event_id LIKE 'limit-${stamp}-%'`,
        )
        return Number(r?.n) === 100 ? true : undefined
      })
      await kcatProduceLines(
        processor.topic,
        [...Array(300).fill("{not json"), ...Array.from({ length: 10 }, (_, i) => good(1_000 + i))],
        "none",
      )
      const health = await eventually("state failed", async () => {
        const h = await processor.get("/health")
        return h.status === 503 ? h : undefined
      })
      expect(JSON.parse(health.body)).toMatchObject({
        state: "failed",
        reason: expect.stringMatching(/dead-letter limit: .*DLQ_MAX_RATIO=0.5/),
      })
      expect((await processor.get("/ready")).status).toBe(503)
      const metrics = await processor.get("/metrics")
      expect(metrics.body).toMatch(/^rtoa_processor_state\{state="failed"\} 1$/m)
      expect(processor.alive()).toBe(true)
      // It stopped: the bad deploy is not all in the DLQ, the good records after it are not in, and
      // the committed offset stays before the batch that crossed the limit.
      await new Promise((r) => setTimeout(r, 2_000))
      expect((await processor.deadLetters()).length).toBeLessThan(300)
      const [after] = await processor.rows(
        `SELECT count() AS n FROM raw_events WHERE event_id LIKE 'limit-${stamp}-1___'`,
      )
      expect(Number(after?.n)).toBe(0)
      expect((await processor.committed()).get(0)).toBeLessThan(400)
      expect(processor.log()).toMatch(/stopped consuming: .*fix the producers/)
    } finally {
      await processor.stop()
    }
  })
})
