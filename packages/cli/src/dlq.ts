import { KafkaClient, readTopic, safePreview } from "@rtoa/core"
import { Console, Effect } from "effect"

/**
 * `make dlq`: prints the newest dead letters (reason, source position, detail, a safe preview of
 * the payload), reading the DLQ topic directly (a throwaway group, nothing committed). Payloads
 * are hostile by definition: control characters are printed as escapes, never sent to the terminal.
 */
export const dlqCommand = (limit: number) =>
  Effect.gen(function* () {
    const { kafka, config } = yield* KafkaClient
    const records = yield* readTopic(kafka, config.dlqTopic, { fromEnd: limit, timeout: "20 seconds" })
    const newest = [...records].sort((a, b) => a.timestamp - b.timestamp).slice(-limit)
    yield* Console.log(`dead-letter topic ${config.dlqTopic}: newest ${newest.length} record(s)`)
    for (const r of newest) {
      const h = r.headers
      const truncated =
        h["dlq.payload.truncated"] === "true" ? ` (truncated from ${h["dlq.payload.size"]} bytes)` : ""
      yield* Console.log(
        `[${h["dlq.reason"] ?? "?"}] ${h["dlq.source.topic"] ?? "?"}:${h["dlq.source.partition"] ?? "?"}@${h["dlq.source.offset"] ?? "?"}  ${safePreview(Buffer.from(h["dlq.detail"] ?? ""), 500)}\n    value${truncated}: ${safePreview(r.value)}`,
      )
    }
  })
