import { type Chunk, Context, Effect } from "effect"
import type { PartitionBounds } from "./commit.ts"
import type { DeadLetter, DecodedEvent, SourceRecord } from "./model.ts"

/** One batch written, dead-lettered and committed (or its commit failed): what it was made of. */
export interface WrittenBatch {
  readonly records: Chunk.Chunk<SourceRecord>
  /** The events the sink acknowledged (rows the engine refused are left out). */
  readonly written: ReadonlyArray<DecodedEvent>
  /** Refused records: the decoder's and the engine's. */
  readonly deadLetters: ReadonlyArray<DeadLetter>
  /** When the sink and the dead-letter sink had both acknowledged (epoch ms). */
  readonly ackedAt: number
  readonly bounds: PartitionBounds
}

/**
 * What the pipeline tells whoever watches it: the processor turns this into its metrics and
 * health (processor's pipeline-observer.ts), a replay into its progress and totals. Each call is
 * made from the batch loop, so it should be quick.
 */
export interface PipelineObserverService {
  /** `member`'s write or dead-letter publish failed and is retried, because of `why`. */
  readonly backingOff: (member: string, why: string) => Effect.Effect<void>
  /** `member`'s write or publish went through. */
  readonly recovered: (member: string) => Effect.Effect<void>
  /** A sink write failed (it is retried). */
  readonly sinkFailed: Effect.Effect<void>
  /** Offsets were committed. */
  readonly committed: Effect.Effect<void>
  /** A commit failed (the next one covers it). */
  readonly commitFailed: Effect.Effect<void>
  readonly batchWritten: (batch: WrittenBatch) => Effect.Effect<void>
}

export class PipelineObserver extends Context.Tag("rtoa/PipelineObserver")<
  PipelineObserver,
  PipelineObserverService
>() {}

/** Watches nothing: start from this and override what you need. */
export const silentObserver: PipelineObserverService = {
  backingOff: () => Effect.void,
  recovered: () => Effect.void,
  sinkFailed: Effect.void,
  committed: Effect.void,
  commitFailed: Effect.void,
  batchWritten: () => Effect.void,
}
