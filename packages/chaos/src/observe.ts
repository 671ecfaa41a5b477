import { decodeMessage, parseJsonEachRow, postProcessorQuery, processorHealthy } from "@rtoa/core"
import { Effect, Either, Schedule } from "effect"
import type { Kafka, KafkaMessage } from "kafkajs"
import type { Observed } from "./compare.ts"
import { type Position, parsePositionKey, positionKey } from "./positions.ts"
import { ChaosError } from "./procs.ts"
import { chaosToken } from "./token.ts"

/** Rows of a query through the processor's read-only /query endpoint. */
export const queryRows = (port: number, sql: string, timeoutMs = 10_000) =>
  Effect.tryPromise({
    try: () =>
      postProcessorQuery(`http://127.0.0.1:${port}`, sql, {
        format: "JSONEachRow",
        timeoutMs,
        token: chaosToken,
      }).then(parseJsonEachRow),
    catch: (e) => new ChaosError({ message: `query failed: ${e instanceof Error ? e.message : String(e)}` }),
  })

/** The final reads: retried, since a processor restarting by itself answers nothing for a while. */
const readQuery = (port: number, sql: string, timeoutMs = 30_000) =>
  queryRows(port, sql, timeoutMs).pipe(
    Effect.retry(Schedule.spaced("2 seconds").pipe(Schedule.upTo("60 seconds"))),
  )

export const waitHealthy = (port: number) =>
  Effect.promise(() => processorHealthy(`http://127.0.0.1:${port}`)).pipe(
    Effect.filterOrFail(
      (ok) => ok,
      () => new Error("unhealthy"),
    ),
    Effect.retry(Schedule.spaced("250 millis").pipe(Schedule.upTo("90 seconds"))),
    Effect.mapError(() => new ChaosError({ message: `processor on port ${port} did not become healthy` })),
  )

const topicError = (topic: string) => (e: unknown) =>
  new ChaosError({ message: `reading ${topic}: ${e instanceof Error ? e.message : String(e)}` })

/**
 * Reads a topic from its start to its end as of the call, with a throwaway group. Done when every
 * position up to the end has been seen (counted once: a redelivered batch cannot end it early).
 */
const readTopic = (
  kafka: Kafka,
  topic: string,
  onMessage: (partition: number, message: KafkaMessage) => void,
  timeoutMs = 180_000,
) =>
  Effect.tryPromise({
    try: async () => {
      const admin = kafka.admin()
      await admin.connect()
      const ends = await admin.fetchTopicOffsets(topic).finally(() => admin.disconnect())
      const total = ends.reduce((n, p) => n + Number(p.high) - Number(p.low), 0)
      const end = new Map(ends.map((p) => [p.partition, Number(p.high)]))
      if (total === 0) return 0
      const consumer = kafka.consumer({ groupId: `chaos-reader-${topic}-${Date.now()}` })
      await consumer.connect()
      const seen = new Set<string>()
      try {
        await consumer.subscribe({ topic, fromBeginning: true })
        await new Promise<void>((resolve, reject) => {
          const timer = setTimeout(
            () => reject(new Error(`read ${seen.size} of ${total} records in ${timeoutMs / 1_000} s`)),
            timeoutMs,
          )
          void consumer.run({
            autoCommit: false,
            eachMessage: async ({ partition, message }) => {
              if (Number(message.offset) >= (end.get(partition) ?? 0)) return
              const key = `${partition}:${message.offset}`
              if (seen.has(key)) return
              seen.add(key)
              onMessage(partition, message)
              if (seen.size >= total) {
                clearTimeout(timer)
                resolve()
              }
            },
          })
        })
      } finally {
        await consumer.disconnect()
      }
      return seen.size
    },
    catch: topicError(topic),
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
 * The events topic: positions of the records that break the contract (not the producer's count:
 * a batch resent after a broker restart can be in the topic twice, and a malformed record without
 * an event_id cannot be told from its resend), and where each valid event_id sits.
 */
export const readEventsTopic = (kafka: Kafka, topic: string) =>
  Effect.gen(function* () {
    const malformed = new Set<string>()
    const events = new Map<string, Array<Position>>()
    yield* readTopic(kafka, topic, (partition, message) => {
      const value = message.value
      const position = { partition, offset: Number(message.offset) }
      // The processor's own decision, bytes first (hostile records of the poison mix included).
      const decoded = decodeMessage(value)
      if (Either.isLeft(decoded)) {
        malformed.add(positionKey(position))
        return
      }
      const at = events.get(decoded.right.event_id)
      if (at === undefined) events.set(decoded.right.event_id, [position])
      else at.push(position)
    })
    return { malformed, events }
  })

/** Per partition: the group's committed offset (-1: none) and the topic's end. */
export interface PartitionProgress {
  readonly partition: number
  readonly committed: number
  readonly end: number
}

export const groupProgress = (kafka: Kafka, groupId: string, topic: string) =>
  Effect.tryPromise({
    try: async (): Promise<ReadonlyArray<PartitionProgress>> => {
      const admin = kafka.admin()
      await admin.connect()
      try {
        const ends = await admin.fetchTopicOffsets(topic)
        const [committed] = await admin.fetchOffsets({ groupId, topics: [topic] })
        const at = new Map((committed?.partitions ?? []).map((p) => [p.partition, Number(p.offset)]))
        return ends
          .map((p) => ({ partition: p.partition, committed: at.get(p.partition) ?? -1, end: Number(p.high) }))
          .sort((a, b) => a.partition - b.partition)
      } finally {
        await admin.disconnect()
      }
    },
    catch: (e) => new ChaosError({ message: `group offsets: ${e instanceof Error ? e.message : String(e)}` }),
  })

/** Every event_id stored in raw_events (replays included), with the kafka_* positions it came from. */
export const storedPositions = (port: number) =>
  Effect.map(
    readQuery(
      port,
      "SELECT event_id AS id, kafka_partition AS p, kafka_offset AS o FROM raw_events",
      120_000,
    ),
    (rows) => {
      const stored = new Map<string, Array<Position>>()
      for (const r of rows) {
        const id = String(r.id)
        const position = { partition: Number(r.p), offset: Number(r.o) }
        const at = stored.get(id)
        if (at === undefined) stored.set(id, [position])
        else at.push(position)
      }
      return stored
    },
  )

// A dead letter without source headers still counts, as position -1:-1.
const positionsOf = (keys: Iterable<string>): Array<Position> =>
  [...keys].map((k) => parsePositionKey(k) ?? { partition: -1, offset: -1 })

export const observe = (port: number, kafka: Kafka, topic: string, dlqTopic: string) =>
  Effect.gen(function* () {
    const final = yield* readQuery(port, "SELECT count() AS n FROM raw_events FINAL")
    const physical = yield* readQuery(port, "SELECT count() AS n FROM raw_events")
    const minutes = yield* readQuery(
      port,
      "SELECT toString(time_window) AS minute, uniqExactMerge(event_count_state) AS events, uniqMerge(unique_users_state) AS users FROM metrics_minutely GROUP BY time_window",
    )
    const rawMinutes = yield* readQuery(
      port,
      "SELECT toString(toStartOfMinute(event_time)) AS minute, count() AS n FROM raw_events FINAL GROUP BY minute",
    )
    const dlq = yield* readDeadLetters(kafka, dlqTopic)
    const { malformed, events } = yield* readEventsTopic(kafka, topic)
    const observed: Observed = {
      rawFinal: Number(final[0]?.n),
      rawPhysical: Number(physical[0]?.n),
      perMinute: new Map(
        minutes.map((r) => [String(r.minute), { events: Number(r.events), users: Number(r.users) }]),
      ),
      rawPerMinute: new Map(rawMinutes.map((r) => [String(r.minute), Number(r.n)])),
      deadLetterRecords: dlq.records,
      deadLetterDistinct: dlq.positions.size,
      malformedInTopic: malformed.size,
      notDeadLettered: positionsOf([...malformed].filter((p) => !dlq.positions.has(p))),
      wronglyDeadLettered: positionsOf([...dlq.positions].filter((p) => !malformed.has(p))),
    }
    return { observed, topicEvents: events }
  })
