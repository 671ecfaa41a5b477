import { createHash } from "node:crypto"
import type { DeadLetter } from "@rtoa/pipeline"
import { sourceRecord } from "@rtoa/pipeline"
import { describe, expect, it } from "vitest"
import { chunkBySize, deadLetterMessage } from "../src/kafka-dead-letters.ts"

const letter = (offset: number, value: string | null): DeadLetter => ({
  record: sourceRecord(2, offset, value, { key: "u-1", timestamp: 1_700_000_000_000 }),
  reason: "invalid",
  detail: "event_id: must not be empty",
})

describe("dead-letter records", () => {
  it("carry the payload byte for byte with reason and source position in headers", () => {
    const m = deadLetterMessage(letter(41, '{"a":1}'), 1_024)
    expect(m.value?.toString()).toBe('{"a":1}')
    expect(m.key?.toString()).toBe("u-1")
    expect(m.headers).toMatchObject({
      "dlq.reason": "invalid",
      "dlq.source.partition": "2",
      "dlq.source.offset": "41",
      "dlq.source.timestamp": "1700000000000",
    })
    expect(m.headers?.["dlq.payload.truncated"]).toBeUndefined()
  })

  it("truncate an oversize payload, with its original size and SHA-256 in headers", () => {
    const payload = "x".repeat(5_000)
    const m = deadLetterMessage(letter(7, payload), 1_024)
    expect(m.value).toHaveLength(1_024)
    expect(m.headers).toMatchObject({
      "dlq.payload.truncated": "true",
      "dlq.payload.size": "5000",
      "dlq.payload.sha256": createHash("sha256").update(payload).digest("hex"),
      "dlq.source.offset": "7",
    })
    expect(deadLetterMessage(letter(8, null), 1_024).value).toBeNull()
  })

  it("go out in sends under the size limit: 2,500 invalid 1 KB records are not one request", () => {
    const messages = Array.from({ length: 2_500 }, (_, i) =>
      deadLetterMessage(letter(i, "y".repeat(1_000)), 65_536),
    )
    const chunks = chunkBySize(messages, 512 * 1024)
    expect(chunks.length).toBeGreaterThanOrEqual(5)
    expect(chunks.flat()).toEqual(messages)
    for (const chunk of chunks) {
      const bytes = chunk.reduce((n, m) => n + (m.value?.length ?? 0), 0)
      expect(bytes).toBeLessThanOrEqual(512 * 1024)
    }
    // One message over the limit still goes, alone.
    expect(chunkBySize(messages.slice(0, 2), 10).map((c) => c.length)).toEqual([1, 1])
  })
})
