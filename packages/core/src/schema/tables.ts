import { DIMENSION_COLUMNS, type DimensionColumn } from "./dimensions.ts"

/**
 * The columns of every table the programs write, as db/*.sql leaves them after the last
 * migration: the ClickHouse type, the DEFAULT, and the TypeScript value a row carries for it.
 * Row types are derived from these; SQL column lists are built from them; the migrations stay the
 * applied DDL, and packages/core/test/tables.it.test.ts fails when the two disagree.
 *
 * Column order is not part of the definition: every insert names its columns (the client's
 * insert sends the row's keys; the SQL built here lists them), and views match by name. Sorting
 * keys, which do have an order, are.
 */

/** One column: its ClickHouse type, its DEFAULT if any, and (as a type only) a row's value for it. */
export interface Column<T> {
  readonly type: string
  readonly default?: string
  /** Filled by the server on insert (its DEFAULT): not part of the rows the programs write. */
  readonly serverFilled?: true
  readonly _value?: T
}

const column =
  <T>() =>
  (type: string, options: { readonly default?: string; readonly serverFilled?: true } = {}): Column<T> => ({
    type,
    ...options,
  })

const text = column<string>()
const number = column<number>()
/** UInt64 as the decimal string Kafka offsets come as. */
const decimal = column<string>()
const strings = column<ReadonlyArray<string>>()
const numbers = column<ReadonlyArray<number>>()
/** An aggregate state: written by views and INSERT ... SELECT, never in a row from the programs. */
const state = column<never>()

const DATETIME = "DateTime('UTC')"
const DATETIME64 = "DateTime64(3, 'UTC')"
const LOW_STRING = "LowCardinality(String)"

/** Every dimension as a column of this type. */
const dimensionColumns = (type: string) =>
  Object.fromEntries(DIMENSION_COLUMNS.map((c) => [c, text(type)])) as {
    readonly [C in DimensionColumn]: Column<string>
  }

export interface TableDefinition {
  readonly columns: Readonly<Record<string, Column<unknown>>>
  /** The sorting key's columns, in order (ORDER BY); empty for a table that keeps no rows. */
  readonly orderBy: ReadonlyArray<string>
}

const table = <const C extends Readonly<Record<string, Column<unknown>>>>(
  columns: C,
  orderBy: ReadonlyArray<keyof C & string>,
) => ({ columns, orderBy })

/** The per-minute tables' sorting key: the minute, then every dimension. */
const MINUTE_KEY = ["time_window", ...DIMENSION_COLUMNS] as const

export const TABLES = {
  /** db/001: every valid event as received. */
  raw_events: table(
    {
      event_id: text("String"),
      user_id: text("String"),
      ...dimensionColumns(LOW_STRING),
      /** 'YYYY-MM-DD hh:mm:ss.sss' in UTC, as ClickHouse's DateTime64 parses it. */
      event_time: text(DATETIME64),
      properties: text("String"),
      kafka_partition: number("UInt32"),
      kafka_offset: decimal("UInt64"),
      ingested_at: text(DATETIME64, { default: "now64(3)", serverFilled: true }),
    },
    ["event_id"],
  ),
  /** db/002: per-minute uniq / uniqExact states per dimension set. */
  metrics_minutely: table(
    {
      time_window: text(DATETIME),
      ...dimensionColumns(LOW_STRING),
      unique_users_state: state("AggregateFunction(uniq, String)"),
      event_count_state: state("AggregateFunction(uniqExact, String)"),
    },
    MINUTE_KEY,
  ),
  /** db/002, db/004: one batch's pre-aggregate per minute and dimension set (a Null table). */
  metrics_minutely_input: table(
    {
      time_window: text(DATETIME),
      ...dimensionColumns("String"),
      user_ids: strings("Array(String)"),
      event_ids: strings("Array(String)"),
      /** Valid records of the group, duplicates included (integrity: received vs stored). */
      received: number("UInt32", { default: "0" }),
      /** Records that reached the processor more than a minute after their event_time, and the latest. */
      late_events: number("UInt32", { default: "0" }),
      max_lateness_ms: number("UInt32", { default: "0" }),
    },
    [],
  ),
  /** db/004: integrity per minute and channel (one dimension only, by design). */
  integrity_minutely: table(
    {
      time_window: text(DATETIME),
      dimension_channel: text(LOW_STRING),
      received: state("SimpleAggregateFunction(sum, UInt64)"),
      late_events: state("SimpleAggregateFunction(sum, UInt64)"),
      max_lateness_ms: state("SimpleAggregateFunction(max, UInt32)"),
    },
    ["time_window", "dimension_channel"],
  ),
  /** db/004, db/006: exact counts of the full dimension set (the rollup's view fills it). */
  metrics_minutely_counts: table(
    {
      time_window: text(DATETIME),
      ...dimensionColumns(LOW_STRING),
      events: number("UInt64"),
      users: number("UInt64"),
      computed_at: text(DATETIME64),
    },
    MINUTE_KEY,
  ),
  /** db/006: exact counts of every combination of dimensions (`grouped`: dimensions.ts). */
  metrics_minutely_rollup: table(
    {
      time_window: text(DATETIME),
      grouped: number("UInt8"),
      ...dimensionColumns(LOW_STRING),
      events: number("UInt64"),
      users: number("UInt64"),
      computed_at: text(DATETIME64),
    },
    ["grouped", ...MINUTE_KEY],
  ),
  /** db/004: the pipeline's own numbers every few seconds, per processor. */
  ingest_stats: table(
    {
      ts: number(DATETIME),
      processor: text(LOW_STRING),
      seconds: number("Float32"),
      consumed: number("UInt64"),
      written: number("UInt64"),
      dead_letters: column<Readonly<Record<string, number>>>()("Map(LowCardinality(String), UInt64)"),
      batches: number("UInt32"),
      max_batch_rows: number("UInt32"),
      sink_retries: number("UInt32"),
      latency_buckets: numbers("Array(UInt64)"),
      max_lag_records: number("UInt64"),
    },
    ["ts", "processor"],
  ),
  /** db/007: the alert rules' states. */
  alert_states: table(
    {
      rule: text("String"),
      kind: text(LOW_STRING),
      state: text(LOW_STRING),
      since: text(DATETIME64),
      value: column<number | null>()("Nullable(Float64)"),
      threshold: column<number | null>()("Nullable(Float64)"),
      message: text("String"),
      updated_at: text(DATETIME64),
    },
    ["rule"],
  ),
} as const satisfies Readonly<Record<string, TableDefinition>>

export type TableName = keyof typeof TABLES

type ColumnsOf<N extends TableName> = (typeof TABLES)[N]["columns"]

/** A row the programs insert into table N: every column but the server-filled ones. */
export type TableRow<N extends TableName> = {
  readonly [K in keyof ColumnsOf<N> as ColumnsOf<N>[K] extends { readonly serverFilled: true }
    ? never
    : K]: ColumnsOf<N>[K] extends Column<infer T> ? T : never
}

/** The table's column names as a SQL list, in definition order. */
export const columnList = (name: TableName): string => Object.keys(TABLES[name].columns).join(", ")
