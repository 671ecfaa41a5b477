import { Effect, Schedule } from "effect"
import type { Kafka } from "kafkajs"
import type { Observed } from "./compare.ts"
import { ChaosError } from "./procs.ts"

/** Rows of a query through the processor's read-only /query endpoint. */
export const queryRows = (port: number, sql: string) =>
  Effect.tryPromise({
    try: async () => {
      const response = await fetch(`http://127.0.0.1:${port}/query?format=JSONEachRow`, {
        method: "POST",
        body: sql,
        signal: AbortSignal.timeout(10_000),
      })
      const body = await response.text()
      if (!response.ok) throw new Error(body)
      return body
        .split("\n")
        .filter((l) => l.trim() !== "")
        .map((l) => JSON.parse(l) as Record<string, unknown>)
    },
    catch: (e) => new ChaosError({ message: `query failed: ${e instanceof Error ? e.message : String(e)}` }),
  })

export const waitHealthy = (port: number) =>
  Effect.tryPromise(() =>
    fetch(`http://127.0.0.1:${port}/health`, { signal: AbortSignal.timeout(1_000) }),
  ).pipe(
    Effect.filterOrFail(
      (r) => r.ok,
      () => new Error("unhealthy"),
    ),
    Effect.retry(Schedule.spaced("250 millis").pipe(Schedule.upTo("90 seconds"))),
    Effect.mapError(() => new ChaosError({ message: `processor on port ${port} did not become healthy` })),
  )

/** Counts dead letters, and distinct source positions among them, up to the topic's end. */
export const readDeadLetters = (kafka: Kafka, topic: string) =>
  Effect.tryPromise({
    try: async () => {
      const admin = kafka.admin()
      await admin.connect()
      const ends = await admin.fetchTopicOffsets(topic)
      await admin.disconnect()
      const total = ends.reduce((n, p) => n + Number(p.high) - Number(p.low), 0)
      const positions = new Set<string>()
      if (total === 0) return { records: 0, distinct: 0 }
      const consumer = kafka.consumer({ groupId: `chaos-dlq-reader-${Date.now()}` })
      await consumer.connect()
      await consumer.subscribe({ topic, fromBeginning: true })
      let seen = 0
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`read ${seen} of ${total} dead letters in 60 s`)),
          60_000,
        )
        void consumer.run({
          autoCommit: false,
          eachMessage: async ({ message }) => {
            const h = message.headers ?? {}
            positions.add(`${h["dlq.source.partition"]?.toString()}:${h["dlq.source.offset"]?.toString()}`)
            seen += 1
            if (seen >= total) {
              clearTimeout(timer)
              resolve()
            }
          },
        })
      })
      await consumer.disconnect()
      return { records: seen, distinct: positions.size }
    },
    catch: (e) =>
      new ChaosError({ message: `reading dead letters: ${e instanceof Error ? e.message : String(e)}` }),
  })

export const observe = (port: number, kafka: Kafka, dlqTopic: string) =>
  Effect.gen(function* () {
    const final = yield* queryRows(port, "SELECT count() AS n FROM raw_events FINAL")
    const physical = yield* queryRows(port, "SELECT count() AS n FROM raw_events")
    const minutes = yield* queryRows(
      port,
      "SELECT toString(time_window) AS minute, uniqExactMerge(event_count_state) AS events, uniqMerge(unique_users_state) AS users FROM metrics_minutely GROUP BY time_window",
    )
    const dlq = yield* readDeadLetters(kafka, dlqTopic)
    return {
      rawFinal: Number(final[0]?.n),
      rawPhysical: Number(physical[0]?.n),
      perMinute: new Map(
        minutes.map((r) => [String(r.minute), { events: Number(r.events), users: Number(r.users) }]),
      ),
      deadLetterRecords: dlq.records,
      deadLetterDistinct: dlq.distinct,
    } satisfies Observed
  })
