import { Effect } from "effect"
import type { ClickHouseClient } from "../../src/clickhouse.ts"

/**
 * Helpers of cluster-schema.test.ts: a db/cluster statement as the engine's parser reads it, and
 * the form of it a single embedded engine can create (no Keeper, no remote_servers), so the
 * engine itself reports the columns and keys the statement defines.
 */

/** What the parser gave for one cluster statement, and its stand-in for one node. */
export interface ParsedClusterStatement {
  /** The engine's formatting of the statement (formatQuery): it parsed. */
  readonly formatted: string
  /** The table or view it creates or alters. */
  readonly name: string
  /** The cluster named by ON CLUSTER (undefined: the statement runs on one node only). */
  readonly onCluster: string | undefined
  /** A Replicated* engine's Keeper path and replica name. */
  readonly replicated?: { readonly path: string; readonly replica: string }
  /** A Distributed engine's arguments. */
  readonly distributed?: {
    readonly cluster: string
    readonly database: string
    readonly table: string
    readonly shardingKey: string
  }
  /** The same statement for one node: no ON CLUSTER, Replicated* without Keeper arguments, a
   * Distributed table as a Null table with its columns. */
  readonly local: string
}

const head =
  /^(?:CREATE (?:TABLE|MATERIALIZED VIEW|VIEW) IF NOT EXISTS|DROP VIEW IF EXISTS|ALTER TABLE) (\w+)(?: ON CLUSTER (\w+))?/
const replicatedEngine = /ENGINE = Replicated(\w*MergeTree)\('([^']*)', '([^']*)'(?:, ([^\n]*))?\)$/m
const distributedEngine = /ENGINE = Distributed\('([^']*)', '([^']*)', '([^']*)', ([^\n]+)\)$/m

export const parseClusterStatement = (ch: ClickHouseClient, statement: string) =>
  Effect.gen(function* () {
    const [row] = yield* ch.query<{ f: string }>("SELECT formatQuery({q:String}) AS f", { q: statement })
    const formatted = row?.f ?? ""
    const h = head.exec(formatted)
    if (h?.[1] === undefined) return yield* Effect.fail(new Error(`unexpected statement:\n${formatted}`))
    let local = formatted.replace(/ ON CLUSTER \w+/, "")
    const r = replicatedEngine.exec(formatted)
    const d = distributedEngine.exec(formatted)
    if (r?.[1] !== undefined) local = local.replace(replicatedEngine, `ENGINE = ${r[1]}(${r[4] ?? ""})`)
    if (d?.[4] !== undefined) local = local.replace(distributedEngine, "ENGINE = Null")
    return {
      formatted,
      name: h[1],
      onCluster: h[2],
      ...(r?.[2] !== undefined && r[3] !== undefined ? { replicated: { path: r[2], replica: r[3] } } : {}),
      ...(d?.[1] !== undefined && d[2] !== undefined && d[3] !== undefined && d[4] !== undefined
        ? { distributed: { cluster: d[1], database: d[2], table: d[3], shardingKey: d[4] } }
        : {}),
      local,
    } satisfies ParsedClusterStatement
  })

export interface TableFacts {
  readonly name: string
  readonly engine: string
  readonly engine_full: string
  readonly sorting_key: string
  readonly partition_key: string
  readonly primary_key: string
  readonly create_table_query: string
}

export interface ColumnFacts {
  readonly table: string
  readonly name: string
  readonly type: string
  readonly default_kind: string
  readonly default_expression: string
}

/** What the engine reports for every table and view of a database, by name. */
export const catalog = (ch: ClickHouseClient, database: string) =>
  Effect.gen(function* () {
    const tables = yield* ch.query<TableFacts>(
      `SELECT name, engine, engine_full, sorting_key, partition_key, primary_key, create_table_query
       FROM system.tables WHERE database = {db:String}`,
      { db: database },
    )
    const columns = yield* ch.query<ColumnFacts>(
      `SELECT table, name, type, default_kind, default_expression
       FROM system.columns WHERE database = {db:String} ORDER BY table, position`,
      { db: database },
    )
    return {
      tables: new Map(tables.map((t) => [t.name, t])),
      columns: (table: string) =>
        columns.filter((c) => c.table === table).map(({ table: _, ...column }) => column),
    }
  })

/** A sorting key's columns ("(a, b)" or "a, b" as system.tables writes it). */
export const keyColumns = (key: string) =>
  key
    .replace(/[()]/g, "")
    .split(",")
    .map((c) => c.trim())
    .filter((c) => c.length > 0)
