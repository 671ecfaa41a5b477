import { decodeMessage } from "@rtoa/core"
import { Either } from "effect"
import type { DeadLetter, DecodedEvent, SourceRecord } from "./model.ts"

export interface DecodeResult {
  readonly events: ReadonlyArray<DecodedEvent>
  readonly deadLetters: ReadonlyArray<DeadLetter>
}

/**
 * Decode stage: bytes -> contract-checked events; everything else becomes a dead letter with a
 * reason, so one bad record never holds up or loses the valid ones beside it. Late events are
 * accepted (they merge into their own minute); events further in the future than `maxSkewMs`
 * beyond "now" are refused, since a producer clock that far ahead would open windows early.
 * "Now" is the processor clock, or per record (a replay judges each record as of when it
 * entered the topic, so it repeats the live decision whatever day it runs). `decode` is the
 * message decoder with the configured limits (core's makeMessageDecoder).
 */
export const decodeRecords = (
  records: Iterable<SourceRecord>,
  now: number | ((record: SourceRecord) => number),
  maxSkewMs: number,
  decode: typeof decodeMessage = decodeMessage,
): DecodeResult => {
  const events: Array<DecodedEvent> = []
  const deadLetters: Array<DeadLetter> = []
  for (const record of records) {
    const decoded = decode(record.value)
    if (Either.isLeft(decoded)) {
      deadLetters.push({ record, reason: decoded.left.reason, detail: decoded.left.detail })
      continue
    }
    const event = decoded.right
    if (event.event_time > (typeof now === "number" ? now : now(record)) + maxSkewMs) {
      deadLetters.push({
        record,
        reason: "event_time_in_future",
        detail: `event_time ${new Date(event.event_time).toISOString()} is more than ${maxSkewMs} ms ahead of the processor clock`,
      })
      continue
    }
    events.push({ event, record })
  }
  return { events, deadLetters }
}

/**
 * The decode stage as of when each record entered the topic: "now" for the future-time check is
 * the record's own Kafka timestamp (about when the live processor judged it), so a replay repeats
 * the live decision whatever day it runs: an event refused as `event_time_in_future` is refused
 * again, instead of being accepted because its time has since passed. Records without a timestamp
 * (or one after `fallbackNowMs`) use `fallbackNowMs`.
 */
export const decodeForReplay = (
  records: Iterable<SourceRecord>,
  maxSkewMs: number,
  fallbackNowMs: number,
  decode?: typeof decodeMessage,
): DecodeResult =>
  decodeRecords(
    records,
    (record) => (record.timestamp > 0 ? Math.min(record.timestamp, fallbackNowMs) : fallbackNowMs),
    maxSkewMs,
    decode,
  )
