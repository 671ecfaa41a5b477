import { Data } from "effect"

/**
 * A ClickHouse call failed. `reason` tells callers what can help (clickhouse-errors.ts): a retry
 * (Unavailable), isolating the rows (Rejected), nothing but an operator (Schema, Locked).
 */
export class ClickHouseError extends Data.TaggedError("ClickHouseError")<{
  readonly reason: "Locked" | "Unavailable" | "Rejected" | "Schema" | "Query"
  readonly message: string
  /** The engine's error code, when it gave one. */
  readonly code?: number
  readonly cause?: unknown
}> {}

/** A Kafka client call (connect, produce, commit, admin) failed. */
export class KafkaError extends Data.TaggedError("KafkaError")<{
  readonly operation: string
  readonly message: string
  readonly cause?: unknown
}> {}

/** A migration file could not be read, parsed or applied. */
export class MigrationError extends Data.TaggedError("MigrationError")<{
  readonly file: string
  readonly message: string
  readonly cause?: unknown
}> {}

/** The ClickHouse tables are not there yet (`make ddl`). */
export class SchemaMissing extends Data.TaggedError("SchemaMissing")<{
  readonly tables: ReadonlyArray<string>
  readonly message: string
}> {}

/** A child process failed, exited non-zero or ran past its timeout. */
export class CommandError extends Data.TaggedError("CommandError")<{ readonly message: string }> {}

export const messageOf = (cause: unknown): string =>
  cause instanceof Error ? cause.message : typeof cause === "string" ? cause : JSON.stringify(cause)
