import * as path from "node:path"
import { describe, expect, layer } from "@effect/vitest"
import { Context, Effect, Layer } from "effect"
import { makeClickHouse } from "../src/clickhouse.ts"
import { applyMigrations, REQUIRED_TABLES } from "../src/migrations.ts"
import { DIMENSION_COLUMNS, DIMENSIONS, GROUPED_ALL } from "../src/schema/dimensions.ts"
import { type Column, TABLES, type TableName } from "../src/schema/tables.ts"
import { catalog, keyColumns } from "./support/cluster-schema.ts"
import { repoRoot, tempDir } from "./support/it.ts"

/**
 * core's schema definition (schema/dimensions.ts, schema/tables.ts) against what the migrations
 * (db/*.sql) leave in the real engine: each defined table's columns with their types and DEFAULTs,
 * its sorting key, and the views that copy dimensions. A column added to a migration and not to
 * the definition, or the other way round, fails here. db/cluster/*.sql is held to db/*.sql by
 * cluster-schema.test.ts, so the cluster agrees with the definition through it.
 */

class Catalog extends Context.Tag("test/SchemaCatalog")<
  Catalog,
  Effect.Effect.Success<ReturnType<typeof catalog>> & { readonly asSelect: ReadonlyMap<string, string> }
>() {}

const CatalogLive = Layer.scoped(
  Catalog,
  Effect.gen(function* () {
    const ch = yield* makeClickHouse({
      _tag: "Embedded",
      dataPath: path.join(tempDir("tables"), "chdb"),
      database: "default",
    })
    yield* applyMigrations(ch, path.join(repoRoot, "db"))
    const views = yield* ch.query<{ name: string; as_select: string }>(
      "SELECT name, as_select FROM system.tables WHERE database = currentDatabase() AND engine = 'MaterializedView'",
    )
    return {
      ...(yield* catalog(ch, "default")),
      asSelect: new Map(views.map((v) => [v.name, v.as_select])),
    }
  }),
)

const defined = (name: TableName) =>
  Object.entries(TABLES[name].columns as Readonly<Record<string, Column<unknown>>>)
    .map(([column, c]) => ({ name: column, type: c.type, default: c.default ?? "" }))
    .sort((a, b) => a.name.localeCompare(b.name))

describe("schema definition (core/src/schema) against the migrated engine (db/*.sql)", () => {
  layer(CatalogLive, { timeout: 60_000 })((it) => {
    it.effect("every defined table exists with exactly the defined columns, types and defaults", () =>
      Effect.gen(function* () {
        const engine = yield* Catalog
        expect([...REQUIRED_TABLES].sort()).toEqual(Object.keys(TABLES).sort())
        for (const name of REQUIRED_TABLES) {
          expect(engine.tables.has(name), `${name} is not created by db/*.sql`).toBe(true)
          const actual = engine
            .columns(name)
            .map((c) => ({ name: c.name, type: c.type, default: c.default_expression }))
            .sort((a, b) => a.name.localeCompare(b.name))
          expect(actual, name).toEqual(defined(name))
        }
      }),
    )

    it.effect("every defined table has the defined sorting key", () =>
      Effect.gen(function* () {
        const engine = yield* Catalog
        for (const name of REQUIRED_TABLES)
          expect(keyColumns(engine.tables.get(name)?.sorting_key ?? ""), name).toEqual(TABLES[name].orderBy)
      }),
    )

    it.effect("a table holding any dimension holds all of them, or only the channel by design", () =>
      Effect.gen(function* () {
        const engine = yield* Catalog
        for (const name of engine.tables.keys()) {
          const names = new Set(engine.columns(name).map((c) => c.name))
          const held = DIMENSION_COLUMNS.filter((c) => names.has(c))
          if (held.length === 0 || held.length === DIMENSION_COLUMNS.length) continue
          // Integrity is kept per minute and channel (db/004), and the totals view reads it so.
          expect(["integrity_minutely", "integrity_minutely_mv", "metrics_minutely_totals"], name).toContain(
            name,
          )
        }
      }),
    )

    it.effect("the views that fill the per-dimension tables copy every dimension", () =>
      Effect.gen(function* () {
        const engine = yield* Catalog
        for (const view of ["metrics_minutely_mv", "metrics_minutely_counts_mv"]) {
          const query = engine.asSelect.get(view) ?? ""
          expect(query, view).not.toBe("")
          for (const c of DIMENSION_COLUMNS)
            expect(query, `${view} drops ${c}`).toMatch(new RegExp(`\\b${c}\\b`))
        }
        // metrics_minutely_counts is the rollup's full set: `grouped` with every dimension's bit.
        expect(engine.asSelect.get("metrics_minutely_counts_mv")).toMatch(
          new RegExp(`grouped = ${GROUPED_ALL}\\b`),
        )
      }),
    )
  })
})

describe("dimension definition", () => {
  layer(Layer.empty)((it) => {
    it.effect("rollup bits are distinct powers of two from 1 up (standard GROUPING numbers them so)", () =>
      Effect.sync(() => {
        const bits = DIMENSIONS.map((d) => d.rollupBit).sort((a, b) => a - b)
        expect(bits).toEqual(bits.map((_, i) => 2 ** i))
        expect(new Set(DIMENSIONS.map((d) => d.name)).size).toBe(DIMENSIONS.length)
      }),
    )
  })
})
