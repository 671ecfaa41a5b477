import { Schema } from "effect"

/**
 * The parts of a result (results.ts) that feed the capacity model (docs/capacity.md): what a
 * drain left on disk per table, and the per-event costs derived from the drains. All optional in
 * the result, so files written before they existed still decode.
 */

/** One table's active parts after a drain (system.parts). */
export const TableStorage = Schema.Struct({
  table: Schema.String,
  rows: Schema.Number,
  parts: Schema.Number,
  /** Compressed, as on disk (data, marks, primary index). */
  bytesOnDisk: Schema.Number,
  /** The columns' data before compression. */
  uncompressedBytes: Schema.Number,
})

/** Disk bytes a table took per event drained (not per row: aggregate tables hold fewer rows). */
export const StoragePerEvent = Schema.Struct({
  table: Schema.String,
  bytesPerEvent: Schema.Number,
  /** Uncompressed / on-disk bytes of the table's data. */
  compression: Schema.Number,
})

/**
 * CPU and bytes per event, the capacity model's inputs. CPU is µs of CPU time per event at the
 * drain's rate (cores / events per second), split by thread: the JavaScript main thread (consume,
 * decode, minute grouping, insert body), V8's helper threads (garbage collection), and the rest
 * (the embedded engine: parsing and writing the inserts, merges, and the libuv workers that run
 * the chDB calls).
 */
export const PerEventCosts = Schema.Struct({
  /** The run the processor's figures come from. */
  source: Schema.String,
  eventsPerSec: Schema.Number,
  processorUs: Schema.Number,
  mainThreadUs: Schema.Number,
  v8HelpersUs: Schema.Number,
  engineUs: Schema.Number,
  /** The Kafka-engine peer (ingestion done inside ClickHouse), when it ran: its best drain. */
  peer: Schema.NullOr(
    Schema.Struct({ system: Schema.String, eventsPerSec: Schema.Number, cpuUs: Schema.Number }),
  ),
  /** Kafka log bytes per record of the backlog (uncompressed producer batches), when measured. */
  kafkaBytesPerEvent: Schema.NullOr(Schema.Number),
  disk: Schema.Array(StoragePerEvent),
})

export type TableStorage = typeof TableStorage.Type
export type StoragePerEvent = typeof StoragePerEvent.Type
export type PerEventCosts = typeof PerEventCosts.Type
