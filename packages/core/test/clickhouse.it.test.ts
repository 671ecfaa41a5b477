import * as fs from "node:fs"
import * as path from "node:path"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Either } from "effect"
import { makeClickHouse, makeReadOnlyClickHouse } from "../src/clickhouse.ts"
import type { ClickHouseConfig } from "../src/config.ts"
import { applyMigrations } from "../src/migrations.ts"
import { repoRoot, tempDir } from "./support/it.ts"

// One embedded engine per process: every test in this file shares this data path.
const config: ClickHouseConfig = {
  _tag: "Embedded",
  dataPath: path.join(tempDir("ch"), "chdb"),
  database: "default",
}
const dbDir = path.join(repoRoot, "db")

describe("embedded ClickHouse (chDB)", () => {
  it.scoped("round-trips rows through the real engine", () =>
    Effect.gen(function* () {
      const ch = yield* makeClickHouse(config)
      yield* ch.command(
        "CREATE TABLE IF NOT EXISTS rt (id UInt32, name String) ENGINE = MergeTree ORDER BY id",
      )
      yield* ch.insert("rt", [
        { id: 1, name: "a" },
        { id: 2, name: "b's" },
      ])
      const rows = yield* ch.query<{ id: number; name: string }>(
        "SELECT id, name FROM rt WHERE id >= {min:UInt32} ORDER BY id",
        {
          min: 1,
        },
      )
      expect(rows).toEqual([
        { id: 1, name: "a" },
        { id: 2, name: "b's" },
      ])
    }),
  )

  it.scoped("applies the migrations once; a second run changes nothing", () =>
    Effect.gen(function* () {
      const ch = yield* makeClickHouse(config)
      const first = yield* applyMigrations(ch, dbDir)
      expect(first.applied.length).toBeGreaterThanOrEqual(3)
      const snapshot = () =>
        ch.query(
          "SELECT name, create_table_query FROM system.tables WHERE database = 'default' ORDER BY name",
        )
      const before = yield* snapshot()
      const second = yield* applyMigrations(ch, dbDir)
      expect(second.applied).toEqual([])
      expect(second.skipped).toEqual(first.applied)
      expect(yield* snapshot()).toEqual(before)
      const ledger = yield* ch.query<{ n: string }>("SELECT count() AS n FROM schema_migrations FINAL")
      expect(Number(ledger[0]?.n)).toBe(first.applied.length)
    }),
  )

  it.scoped("the read-only session refuses writes and leaves the writer's session writable", () =>
    Effect.gen(function* () {
      const writer = yield* makeClickHouse(config)
      const reader = yield* makeReadOnlyClickHouse(config, { timeoutSeconds: 5, maxRows: 100 })
      yield* writer.command("CREATE TABLE IF NOT EXISTS ro (id UInt32) ENGINE = MergeTree ORDER BY id")
      const drop = yield* Effect.either(reader.queryText("DROP TABLE ro", "TSV"))
      expect(Either.isLeft(drop) && drop.left.message).toMatch(/readonly/i)
      const insert = yield* Effect.either(reader.queryText("INSERT INTO ro VALUES (1)", "TSV"))
      expect(Either.isLeft(insert)).toBe(true)
      const tooMany = yield* Effect.either(reader.queryText("SELECT number FROM numbers(1000)", "TSV"))
      expect(Either.isLeft(tooMany) && tooMany.left.message).toMatch(/limit for result/i)
      yield* writer.insert("ro", [{ id: 7 }])
      expect(yield* reader.queryText("SELECT sum(id) FROM ro", "TSV")).toBe("7\n")
    }),
  )

  it.scoped("insert settings apply to that insert only (no session leak through chDB)", () =>
    Effect.gen(function* () {
      const ch = yield* makeClickHouse(config)
      yield* ch.command("CREATE TABLE IF NOT EXISTS st (id UInt32) ENGINE = MergeTree ORDER BY id")
      yield* ch.insert("st", [{ id: 1 }], { insert_deduplication_token: "t-1", max_insert_block_size: 1000 })
      const rows = yield* ch.query<{ v: string }>("SELECT getSetting('max_insert_block_size') AS v")
      expect(String(rows[0]?.v)).not.toBe("1000")
    }),
  )
})

describe("docker mode parity", () => {
  it.scoped("compose's ClickHouse image is the engine release the tests run (embedded chDB)", () =>
    Effect.gen(function* () {
      const compose = fs.readFileSync(path.join(repoRoot, "infra/docker-compose.yml"), "utf8")
      const tag = /image:\s*clickhouse\/clickhouse-server:(\d+\.\d+)/.exec(compose)?.[1]
      const ch = yield* makeClickHouse(config)
      const [row] = yield* ch.query<{ v: string }>("SELECT version() AS v")
      expect(tag, "clickhouse-server image tag in infra/docker-compose.yml").toBeDefined()
      expect(row?.v.startsWith(`${tag}.`), `engine ${row?.v} vs image ${tag}`).toBe(true)
    }),
  )
})
