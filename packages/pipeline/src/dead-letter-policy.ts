import type { DeadLetterLimits } from "@rtoa/core"
import { type Chunk, Data } from "effect"
import type { DeadLetter, SourceRecord } from "./model.ts"

/**
 * When to stop dead-lettering (as arroyo's DlqLimit): a few refused records are the producers'
 * bugs, a stream of them is a bad deploy upstream, and dead-lettering all of it would bury the
 * real data in the DLQ. Over the limit the processor stops consuming and says why (health
 * `failed`), with the offending batch neither written to the DLQ nor committed (its rows, and up
 * to two later batches' rows, may already be in raw_events: uncommitted, rewritten on replay).
 */
export class DeadLetterLimitExceeded extends Data.TaggedError("DeadLetterLimitExceeded")<{
  readonly message: string
}> {}

export interface DeadLetterPolicy {
  /** Counts a batch and its refused records; returns why they break the limits (then nothing is counted). */
  readonly check: (
    records: Chunk.Chunk<SourceRecord>,
    refused: ReadonlyArray<DeadLetter>,
  ) => string | undefined
}

export const makeDeadLetterPolicy = (limits: DeadLetterLimits): DeadLetterPolicy => {
  // The last batches covering at least `ratioWindow` records.
  const window: Array<{ records: number; refused: number }> = []
  let windowRecords = 0
  let windowRefused = 0
  let consecutive = 0
  return {
    check: (records, letters) => {
      const batch = { records: records.length, refused: letters.length }
      let run = consecutive
      if (batch.refused === 0) run = 0
      else if (batch.refused === batch.records || limits.maxConsecutive === 0) run += batch.refused
      else {
        const refused = new Set(letters.map((l) => l.record))
        for (const r of records) {
          run = refused.has(r) ? run + 1 : 0
          if (run > limits.maxConsecutive) break
        }
      }
      if (limits.maxConsecutive > 0 && run > limits.maxConsecutive)
        return `${run} refused records in a row (DLQ_MAX_CONSECUTIVE=${limits.maxConsecutive})`

      let total = windowRecords + batch.records
      let refusedTotal = windowRefused + batch.refused
      let drop = 0
      for (const w of window) {
        if (total - w.records < limits.ratioWindow) break
        total -= w.records
        refusedTotal -= w.refused
        drop += 1
      }
      if (limits.maxRatio < 1 && total >= limits.ratioWindow && refusedTotal / total > limits.maxRatio)
        return `${refusedTotal} of the last ${total} records refused (${((100 * refusedTotal) / total).toFixed(1)}%, DLQ_MAX_RATIO=${limits.maxRatio} over DLQ_RATIO_WINDOW=${limits.ratioWindow})`

      consecutive = run
      window.splice(0, drop)
      window.push({ records: batch.records, refused: batch.refused })
      windowRecords = total
      windowRefused = refusedTotal
      return undefined
    },
  }
}
