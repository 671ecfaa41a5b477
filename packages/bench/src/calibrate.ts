import { Effect } from "effect"
import type { Kafka } from "kafkajs"
import { BenchError } from "./procs.ts"
import { summarize } from "./stats.ts"

/**
 * How far event_time (the latency clock's start) is from Kafka's CreateTime record timestamp:
 * reads up to `limit` records of a run's topic with a throwaway consumer group and returns the
 * percentiles of (record timestamp - event_time) in ms. Near zero means event_time is the send
 * time; a positive value is the generate-to-send delay the latency numbers leave out.
 */
export const createTimeOffsets = (kafka: Kafka, topic: string, group: string, limit: number) =>
  Effect.tryPromise({
    try: async () => {
      const deltas: Array<number> = []
      const consumer = kafka.consumer({ groupId: group, maxWaitTimeInMs: 100 })
      await consumer.connect()
      try {
        await consumer.subscribe({ topic, fromBeginning: true })
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, 15_000)
          void consumer.run({
            autoCommit: false,
            eachBatch: async ({ batch }) => {
              for (const m of batch.messages) {
                if (deltas.length >= limit) break
                const text = m.value?.toString("utf8") ?? ""
                if (text.includes('"probe-')) continue
                const eventTime = Date.parse((JSON.parse(text) as { event_time: string }).event_time)
                deltas.push(Number(m.timestamp) - eventTime)
              }
              if (deltas.length >= limit) {
                clearTimeout(timer)
                resolve()
              }
            },
          })
        })
      } finally {
        await consumer.disconnect()
      }
      return summarize(deltas)
    },
    catch: (e) => new BenchError({ message: `calibration: ${e instanceof Error ? e.message : String(e)}` }),
  })
