import { KafkaClient, kafkaTry } from "@rtoa/core"
import { Console, Effect } from "effect"

const header = (headers: Record<string, unknown> | undefined, name: string): string => {
  const v = headers?.[name]
  return v === undefined ? "" : Buffer.isBuffer(v) ? v.toString("utf8") : String(v)
}

/**
 * `make dlq`: prints the newest dead letters (reason, source position, value), reading the DLQ
 * topic directly by partition and offset (no consumer group, nothing committed).
 */
export const dlqCommand = (limit: number) =>
  Effect.scoped(
    Effect.gen(function* () {
      const { kafka, config } = yield* KafkaClient
      const admin = kafka.admin()
      yield* Effect.acquireRelease(
        kafkaTry("admin.connect", () => admin.connect()),
        () => Effect.promise(() => admin.disconnect()).pipe(Effect.ignore),
      )
      const offsets = yield* kafkaTry("admin.fetchTopicOffsets", () =>
        admin.fetchTopicOffsets(config.dlqTopic),
      )
      const total = offsets.reduce((n, p) => n + (Number(p.high) - Number(p.low)), 0)
      yield* Console.log(`dead-letter topic ${config.dlqTopic}: ${total} record(s)`)
      if (total === 0) return
      const consumer = kafka.consumer({ groupId: `rtoa-dlq-inspect-${process.pid}-${Date.now()}` })
      yield* Effect.acquireRelease(
        kafkaTry("consumer.connect", () => consumer.connect()),
        () => Effect.promise(() => consumer.disconnect()).pipe(Effect.ignore),
      )
      yield* kafkaTry("consumer.subscribe", () =>
        consumer.subscribe({ topic: config.dlqTopic, fromBeginning: true }),
      )
      const wanted = Math.min(limit, total)
      const seen: Array<string> = []
      yield* Effect.async<void>((resume) => {
        const done = () => resume(Effect.void)
        const timer = setTimeout(done, 10_000)
        void consumer.run({
          autoCommit: false,
          eachMessage: async ({ partition, message }) => {
            if (
              BigInt(message.offset) <
              BigInt(offsets.find((o) => o.partition === partition)?.high ?? "0") - BigInt(wanted)
            )
              return
            const h = message.headers as Record<string, unknown> | undefined
            seen.push(
              `[${header(h, "dlq.reason")}] ${header(h, "dlq.source.topic")}:${header(h, "dlq.source.partition")}@${header(h, "dlq.source.offset")}  ${header(h, "dlq.detail")}\n    value: ${message.value?.toString("utf8").slice(0, 300) ?? "(null)"}`,
            )
            if (seen.length >= wanted) {
              clearTimeout(timer)
              done()
            }
          },
        })
      })
      yield* Console.log(seen.join("\n"))
    }),
  )
