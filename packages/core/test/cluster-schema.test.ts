import * as path from "node:path"
import { describe, expect, layer } from "@effect/vitest"
import { Context, Effect, Either, Layer } from "effect"
import { makeClickHouse } from "../src/clickhouse.ts"
import { type ClusterTarget, clusterLedgerStatement, renderClusterStatement } from "../src/cluster-ddl.ts"
import { applyMigrations, readMigrations } from "../src/migrations.ts"
import {
  catalog,
  keyColumns,
  type ParsedClusterStatement,
  parseClusterStatement,
} from "./support/cluster-schema.ts"
import { repoRoot, tempDir } from "./support/it.ts"

/**
 * db/cluster/*.sql (make ddl with CLICKHOUSE_CLUSTER) against db/*.sql. No ClickHouse server runs
 * here, so every cluster statement goes through the embedded engine's own parser (formatQuery);
 * its one-node form (no ON CLUSTER, Replicated* without Keeper, a Distributed table as a Null table
 * with its columns) is created in one database and the single-node migrations in another, and the
 * engine's catalog of both must agree: the same tables, columns, types, defaults, engines, keys
 * and views. A column added to a db/ file and not to its db/cluster twin fails here.
 */

const TARGET: ClusterTarget = { cluster: "rtoa_test", database: "rtoa" }
const SHARD_PATH = "/clickhouse/tables/{shard}/{database}/{table}"

interface Schemas {
  readonly versions: { readonly single: ReadonlyArray<string>; readonly cluster: ReadonlyArray<string> }
  readonly parsed: ReadonlyArray<ParsedClusterStatement>
  readonly single: Effect.Effect.Success<ReturnType<typeof catalog>>
  readonly cluster: Effect.Effect.Success<ReturnType<typeof catalog>>
  /** Each Distributed table's sharding key's type, as the engine infers it over the local table. */
  readonly shardKeyTypes: ReadonlyMap<string, string>
}
class SchemasTag extends Context.Tag("test/ClusterSchemas")<SchemasTag, Schemas>() {}

const render = (statement: string) =>
  Either.getOrThrowWith(renderClusterStatement(statement, TARGET), (e) => new Error(e))

const SchemasLive = Layer.scoped(
  SchemasTag,
  Effect.gen(function* () {
    // One client per database: a client is a pool of engine sessions, so no `USE` is shared.
    const dataPath = path.join(tempDir("cluster-schema"), "chdb")
    const ch = yield* makeClickHouse({ _tag: "Embedded", dataPath, database: "single" })
    const singleDir = path.join(repoRoot, "db")
    const clusterDir = path.join(singleDir, "cluster")
    yield* applyMigrations(ch, singleDir)
    const clusterMigrations = yield* readMigrations(clusterDir)
    const statements = [
      clusterLedgerStatement(TARGET.cluster),
      ...clusterMigrations.flatMap((m) => m.statements.map(render)),
    ]
    const parsed = yield* Effect.forEach(statements, (s) => parseClusterStatement(ch, s))
    const clusterCh = yield* makeClickHouse({ _tag: "Embedded", dataPath, database: "cluster" })
    for (const p of parsed) yield* clusterCh.command(p.local)
    const shardKeyTypes = new Map<string, string>()
    for (const { name, distributed: d } of parsed)
      if (d !== undefined) {
        const [k] = yield* ch.query<{ type: string }>(
          `DESCRIBE TABLE (SELECT ${d.shardingKey} AS k FROM cluster.${d.table})`,
        )
        shardKeyTypes.set(name, k?.type ?? "?")
      }
    const versionsOf = (ms: ReadonlyArray<{ version: number; name: string }>) =>
      ms.map((m) => `${m.version}_${m.name}`)
    return {
      versions: {
        single: versionsOf(yield* readMigrations(singleDir)),
        cluster: versionsOf(clusterMigrations),
      },
      parsed,
      single: yield* catalog(ch, "single"),
      cluster: yield* catalog(ch, "cluster"),
      shardKeyTypes,
    }
  }),
)

const isStored = (engine: string) => engine.endsWith("MergeTree")
const creates = (p: ParsedClusterStatement) => p.formatted.startsWith("CREATE")
const distributedTables = (s: Schemas) =>
  new Map(s.parsed.flatMap((p) => (p.distributed === undefined ? [] : [[p.name, p.distributed] as const])))
/** A view's definition with the databases and `_local` suffixes taken out. */
const viewText = (q: string) => q.replace(/\b(single|cluster)\./g, "").replace(/_local\b/g, "")

describe("cluster DDL (db/cluster) against the single-node schema (db)", () => {
  layer(SchemasLive, { timeout: 60_000 })((it) => {
    it.effect("the same migrations, every statement parsed by the engine and run ON CLUSTER", () =>
      Effect.gen(function* () {
        const s = yield* SchemasTag
        expect(s.versions.cluster).toEqual(s.versions.single)
        expect(s.parsed.length).toBeGreaterThan(s.versions.single.length)
        for (const p of s.parsed) {
          expect(p.onCluster, p.formatted).toBe(TARGET.cluster)
          expect(p.formatted, "a placeholder left in").not.toMatch(/\$\{/)
        }
      }),
    )

    it.effect("every stored table is Replicated; every other table is Distributed or Null", () =>
      Effect.gen(function* () {
        const s = yield* SchemasTag
        for (const p of s.parsed.filter((q) => creates(q) && !q.formatted.includes(" VIEW "))) {
          const engine = s.cluster.tables.get(p.name)?.engine ?? "?"
          if (p.name === "schema_migrations")
            expect(p.replicated).toEqual({
              path: "/clickhouse/tables/all/{database}/{table}",
              replica: "{shard}-{replica}",
            })
          else if (isStored(engine))
            expect(p.replicated, p.name).toEqual({ path: SHARD_PATH, replica: "{replica}" })
          else expect(p.distributed !== undefined || engine === "Null", `${p.name}: ${engine}`).toBe(true)
        }
      }),
    )

    it.effect("the same tables and views, with the same columns, types and defaults", () =>
      Effect.gen(function* () {
        const s = yield* SchemasTag
        const dist = distributedTables(s)
        const expected = [...s.single.tables.keys(), ...[...dist.values()].map((d) => d.table)]
        expect([...s.cluster.tables.keys()].sort()).toEqual(expected.sort())
        for (const name of s.single.tables.keys()) {
          const columns = s.single.columns(name)
          expect(s.cluster.columns(name), name).toEqual(columns)
          const local = dist.get(name)?.table
          if (local !== undefined) expect(s.cluster.columns(local), local).toEqual(columns)
        }
      }),
    )

    it.effect("the same engines, sorting, partition and primary keys, TTLs and view definitions", () =>
      Effect.gen(function* () {
        const s = yield* SchemasTag
        const dist = distributedTables(s)
        for (const [name, single] of s.single.tables) {
          const stored = s.cluster.tables.get(dist.get(name)?.table ?? name)
          if (single.engine.includes("View")) {
            expect(stored?.engine, name).toBe(single.engine)
            expect(viewText(stored?.create_table_query ?? ""), name).toBe(viewText(single.create_table_query))
            continue
          }
          const { name: _, create_table_query: __, ...facts } = single
          const { name: ___, create_table_query: ____, ...clusterFacts } = stored ?? single
          expect(stored === undefined ? undefined : clusterFacts, name).toEqual(facts)
        }
      }),
    )

    it.effect("Distributed tables name their local table and shard on its keys", () =>
      Effect.gen(function* () {
        const s = yield* SchemasTag
        const dist = distributedTables(s)
        expect(dist.get("raw_events")?.shardingKey).toBe("cityHash64(event_id)")
        // A view writes on the node its source's rows reach: its target's key must hold the
        // source's sharding columns, or one key's rows would be spread over shards.
        const feeds = s.parsed.flatMap((p) => {
          const m = /^CREATE MATERIALIZED VIEW .* TO (\w+)\n[\s\S]*\nFROM (\w+)/.exec(p.formatted)
          return m?.[1] !== undefined && m[2] !== undefined ? [{ target: m[1], source: m[2] }] : []
        })
        expect(feeds.length).toBeGreaterThan(0)
        for (const [name, d] of dist) {
          expect({ cluster: d.cluster, database: d.database, table: d.table }, name).toEqual({
            cluster: TARGET.cluster,
            database: TARGET.database,
            table: `${name}_local`,
          })
          // The engine takes an integer (LowCardinality too: its own tests shard on sipHash64 of one).
          expect(s.shardKeyTypes.get(name), `${name}: ${d.shardingKey}`).toMatch(
            /^(LowCardinality\()?U?Int(8|16|32|64)\)?$/,
          )
          const local = s.cluster.tables.get(d.table)
          const names = new Set(s.cluster.columns(d.table).map((c) => c.name))
          const used = (d.shardingKey.match(/\w+/g) ?? []).filter((w) => names.has(w))
          expect(used.length, `${name}: ${d.shardingKey}`).toBeGreaterThan(0)
          const keyed = [
            ...(local !== undefined && isStored(local.engine) ? [d.table] : []),
            ...feeds.filter((f) => f.source === d.table).map((f) => f.target),
          ]
          expect(keyed.length, `${name}: nothing keyed by ${d.shardingKey}`).toBeGreaterThan(0)
          for (const t of keyed)
            expect(keyColumns(s.cluster.tables.get(t)?.sorting_key ?? ""), `${name} -> ${t}`).toEqual(
              expect.arrayContaining(used),
            )
        }
        for (const f of feeds) {
          expect(f.source, "a view reads its node's own rows").toMatch(/_local$/)
          expect(f.target, "a view writes its node's own table").toMatch(/_local$/)
        }
      }),
    )
  })
})
