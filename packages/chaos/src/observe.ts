import { decodeEvent, parseJsonEachRow, postProcessorQuery, processorHealthy } from "@rtoa/core"
import { Effect, Either, Schedule } from "effect"
import type { Kafka, KafkaMessage } from "kafkajs"
import type { Observed } from "./compare.ts"
import { ChaosError } from "./procs.ts"

/** Rows of a query through the processor's read-only /query endpoint. */
export const queryRows = (port: number, sql: string) =>
  Effect.tryPromise({
    try: () =>
      postProcessorQuery(`http://127.0.0.1:${port}`, sql, { format: "JSONEachRow", timeoutMs: 10_000 }).then(
        parseJsonEachRow,
      ),
    catch: (e) => new ChaosError({ message: `query failed: ${e instanceof Error ? e.message : String(e)}` }),
  })

export const waitHealthy = (port: number) =>
  Effect.promise(() => processorHealthy(`http://127.0.0.1:${port}`)).pipe(
    Effect.filterOrFail(
      (ok) => ok,
      () => new Error("unhealthy"),
    ),
    Effect.retry(Schedule.spaced("250 millis").pipe(Schedule.upTo("90 seconds"))),
    Effect.mapError(() => new ChaosError({ message: `processor on port ${port} did not become healthy` })),
  )

/** Reads a topic from its start to its current end with a throwaway group, one call per record. */
const readTopic = (
  kafka: Kafka,
  topic: string,
  onMessage: (partition: number, message: KafkaMessage) => void,
) =>
  Effect.tryPromise({
    try: async () => {
      const admin = kafka.admin()
      await admin.connect()
      const ends = await admin.fetchTopicOffsets(topic)
      await admin.disconnect()
      const total = ends.reduce((n, p) => n + Number(p.high) - Number(p.low), 0)
      if (total === 0) return 0
      const consumer = kafka.consumer({ groupId: `chaos-reader-${topic}-${Date.now()}` })
      await consumer.connect()
      await consumer.subscribe({ topic, fromBeginning: true })
      let seen = 0
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`read ${seen} of ${total} records in 120 s`)),
          120_000,
        )
        void consumer.run({
          autoCommit: false,
          eachMessage: async ({ partition, message }) => {
            onMessage(partition, message)
            seen += 1
            if (seen >= total) {
              clearTimeout(timer)
              resolve()
            }
          },
        })
      })
      await consumer.disconnect()
      return seen
    },
    catch: (e) =>
      new ChaosError({ message: `reading ${topic}: ${e instanceof Error ? e.message : String(e)}` }),
  })

/** Dead letters, and the source position (partition:offset) each one names. */
export const readDeadLetters = (kafka: Kafka, topic: string) =>
  Effect.gen(function* () {
    const positions = new Set<string>()
    const records = yield* readTopic(kafka, topic, (_, message) => {
      const h = message.headers ?? {}
      positions.add(`${h["dlq.source.partition"]?.toString()}:${h["dlq.source.offset"]?.toString()}`)
    })
    return { records, positions }
  })

/**
 * Positions of the records in the events topic that break the contract. Not the producer's count:
 * a batch the producer resent after a broker restart can be in the topic twice, and a malformed
 * record without an event_id cannot be told from its resend. Dead letters are checked against this.
 */
export const readMalformedPositions = (kafka: Kafka, topic: string) =>
  Effect.gen(function* () {
    const positions = new Set<string>()
    yield* readTopic(kafka, topic, (partition, message) => {
      const value = message.value
      if (value === null || value.length === 0 || Either.isLeft(decodeEvent(value.toString("utf8"))))
        positions.add(`${partition}:${message.offset}`)
    })
    return positions
  })

export const observe = (port: number, kafka: Kafka, topic: string, dlqTopic: string) =>
  Effect.gen(function* () {
    const final = yield* queryRows(port, "SELECT count() AS n FROM raw_events FINAL")
    const physical = yield* queryRows(port, "SELECT count() AS n FROM raw_events")
    const minutes = yield* queryRows(
      port,
      "SELECT toString(time_window) AS minute, uniqExactMerge(event_count_state) AS events, uniqMerge(unique_users_state) AS users FROM metrics_minutely GROUP BY time_window",
    )
    const dlq = yield* readDeadLetters(kafka, dlqTopic)
    const malformed = yield* readMalformedPositions(kafka, topic)
    const unmatched = [...malformed].filter((p) => !dlq.positions.has(p)).length
    const unexpected = [...dlq.positions].filter((p) => !malformed.has(p)).length
    return {
      rawFinal: Number(final[0]?.n),
      rawPhysical: Number(physical[0]?.n),
      perMinute: new Map(
        minutes.map((r) => [String(r.minute), { events: Number(r.events), users: Number(r.users) }]),
      ),
      deadLetterRecords: dlq.records,
      deadLetterDistinct: dlq.positions.size,
      malformedInTopic: malformed.size,
      deadLetterMismatches: unmatched + unexpected,
    } satisfies Observed
  })
