import * as fs from "node:fs"
import * as path from "node:path"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Either } from "effect"
import { makeClickHouse, makeReadOnlyClickHouse } from "../src/clickhouse.ts"
import type { ClickHouseConfig } from "../src/config.ts"
import { applyMigrations } from "../src/migrations.ts"
import { makeReadQueries } from "../src/query-guard.ts"
import { repoRoot, tempDir } from "./support/it.ts"

// One embedded engine per process: every test in this file shares this data path.
const config: ClickHouseConfig = {
  _tag: "Embedded",
  dataPath: path.join(tempDir("ch"), "chdb"),
  database: "default",
}
const dbDir = path.join(repoRoot, "db")
const limits = {
  timeoutSeconds: 5,
  maxRows: 100,
  maxResultBytes: 1_000_000,
  maxMemoryBytes: 256 * 1024 * 1024,
  maxThreads: 1,
}

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
      const reader = yield* makeReadOnlyClickHouse(config, limits)
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
      // Asked side by side, so every session of the client's pool answers at least once.
      const values = yield* Effect.forEach(
        Array.from({ length: 8 }),
        () =>
          Effect.map(
            ch.query<{ v: string }>("SELECT getSetting('max_insert_block_size') AS v, sleep(0.05) AS s"),
            (rows) => String(rows[0]?.v),
          ),
        { concurrency: "unbounded" },
      )
      expect(values.filter((v) => v === "1000")).toEqual([])
    }),
  )
})

describe("operator queries: decided by the engine's parser, run read-only with limits", () => {
  const refused = (e: Either.Either<string, { readonly _tag: string; readonly message: string }>) =>
    Either.isLeft(e) ? `${e.left._tag}: ${e.left.message}` : `ran: ${e.right}`

  it.scoped(
    "refuses file writes, USE, SET, SETTINGS, multi-statements, DDL and table functions; runs reads",
    () =>
      Effect.gen(function* () {
        const queries = yield* Effect.flatMap(makeReadOnlyClickHouse(config, limits), makeReadQueries)
        const run = (sql: string, format = "TSV") => Effect.either(queries.run(sql, format))
        const outfile = path.join(tempDir("outfile"), "out.txt")
        expect(refused(yield* run(`SELECT 'x' INTO OUTFILE '${outfile}' FORMAT RawBLOB`))).toMatch(
          /QueryRefused: INTO OUTFILE/,
        )
        expect(refused(yield* run(`EXPLAIN SELECT 1 INTO OUTFILE '${outfile}'`))).toMatch(
          /QueryRefused: INTO OUTFILE/,
        )
        expect(fs.existsSync(outfile)).toBe(false)
        expect(refused(yield* run("USE system; SELECT 1"))).toMatch(
          /QueryRefused: .*Multi-statements are not allowed/,
        )
        expect(refused(yield* run("USE system"))).toMatch(/QueryRefused: only SELECT/)
        expect(yield* queries.run("SELECT currentDatabase()", "TSV")).toBe("default\n")
        expect(refused(yield* run("SET max_threads = 8"))).toMatch(/QueryRefused: only SELECT/)
        // Refused by the guard, or already by the read-only session when the engine parses it.
        expect(refused(yield* run("SELECT 1 SETTINGS max_threads = 8"))).toMatch(
          /a SETTINGS clause|Cannot modify 'max_threads'/,
        )
        expect(refused(yield* run("DROP TABLE schema_migrations"))).toMatch(/QueryRefused: only SELECT/)
        expect(refused(yield* run("INSERT INTO schema_migrations (version) VALUES (9)"))).toMatch(
          /QueryRefused/,
        )
        expect(refused(yield* run("SELECT * FROM file('/etc/passwd', 'LineAsString')"))).toMatch(
          /ClickHouseError: .*readonly/i,
        )
        expect(refused(yield* run("SELECT * FROM url('http://127.0.0.1:1/', 'LineAsString')"))).toMatch(
          /readonly/i,
        )
        expect(refused(yield* run("SELECT 1", "TSV;DROP"))).toMatch(/QueryRefused: unknown output format/)
        // Reads work, in the requested format or the statement's own.
        expect(yield* queries.run("SELECT 1 AS one", "JSONEachRow")).toBe('{"one":1}\n')
        expect(yield* queries.run("SELECT 2 FORMAT CSV;", "TSV")).toBe("2\n")
        expect(yield* queries.run("SHOW TABLES LIKE 'schema_migrations'", "TSV")).toBe("schema_migrations\n")
        expect(yield* queries.run("DESCRIBE TABLE schema_migrations", "TSV")).toMatch(/^version\tUInt32/)
      }),
  )

  it.scoped(
    "runBytes: `{name:Type}` parameters through the guard, the engine's bytes, the statement's own FORMAT",
    () =>
      Effect.gen(function* () {
        const queries = yield* Effect.flatMap(makeReadOnlyClickHouse(config, limits), makeReadQueries)
        const run = (sql: string, params: Record<string, string>, format = "TSV") =>
          Effect.either(queries.runBytes(sql, format, params))
        // Values as the HTTP interface carries them (escaped text), composites with quoted strings too.
        const ok = yield* run(
          "SELECT {x:UInt32} + 1 AS y, {s:String} AS s, {a:Array(String)} AS a FORMAT JSONEachRow",
          { x: "41", s: "it\\'s\\t\\\\", a: "['it\\'s','b\\\\']" },
        )
        expect(Either.isRight(ok) && [ok.right.format, JSON.parse(ok.right.bytes.toString())]).toEqual([
          "JSONEachRow",
          { y: 42, s: "it's\t\\", a: ["it's", "b\\"] },
        ])
        const binary = yield* run("SELECT toUInt8({x:UInt8}) AS x", { x: "255" }, "RowBinary")
        expect(Either.isRight(binary) && [...binary.right.bytes]).toEqual([255])
        // The guard still decides with parameters bound, and a missing one is the engine's error.
        expect(Either.isLeft(yield* run("DROP TABLE {t:Identifier}", { t: "schema_migrations" }))).toBe(true)
        const missing = yield* run("SELECT {x:UInt32}", {})
        expect(Either.isLeft(missing) && missing.left._tag === "ClickHouseError" && missing.left.code).toBe(
          456,
        )
      }),
  )

  it.scoped("a 40 KB statement costs the parser milliseconds, not the event loop half a second", () =>
    Effect.gen(function* () {
      const queries = yield* Effect.flatMap(makeReadOnlyClickHouse(config, limits), makeReadQueries)
      const sql = `SELECT 1 FORMAT TSV${" ".repeat(40 * 1024)}x`
      const started = performance.now()
      const outcome = yield* Effect.either(queries.run(sql, "TSV"))
      expect(Either.isLeft(outcome)).toBe(true)
      expect(performance.now() - started).toBeLessThan(200)
    }),
  )

  it.scoped("a heavy query meets the engine's limits: time, memory, result size", () =>
    Effect.gen(function* () {
      const queries = yield* Effect.flatMap(
        makeReadOnlyClickHouse(config, {
          ...limits,
          timeoutSeconds: 1,
          maxMemoryBytes: 64 * 1024 * 1024,
          maxRows: 100_000_000,
        }),
        makeReadQueries,
      )
      const run = (sql: string) => Effect.either(queries.run(sql, "TSV"))
      expect(
        refused(yield* run("SELECT count() FROM numbers(100000000000) WHERE sipHash64(number) = 0")),
      ).toMatch(/TIMEOUT_EXCEEDED|Timeout exceeded|elapsed/i)
      expect(refused(yield* run("SELECT groupArray(toString(number)) FROM numbers(100000000)"))).toMatch(
        /memory limit/i,
      )
      // The result limit is checked per block: several blocks of numbers overflow 1 MB.
      expect(refused(yield* run("SELECT number FROM numbers(10000000)"))).toMatch(/limit for result/i)
    }),
  )
})

describe("docker mode parity", () => {
  it.scoped(
    "compose's ClickHouse images (server, cluster nodes, Keeper) are the engine release the tests run",
    () =>
      Effect.gen(function* () {
        const compose = fs.readFileSync(path.join(repoRoot, "infra/docker-compose.yml"), "utf8")
        const tags = [...compose.matchAll(/image:\s*clickhouse\/clickhouse-(?:server|keeper):(\S+)/g)].map(
          (m) => m[1],
        )
        const ch = yield* makeClickHouse(config)
        const [row] = yield* ch.query<{ v: string }>("SELECT version() AS v")
        expect(tags.length, "clickhouse images in infra/docker-compose.yml").toBeGreaterThanOrEqual(3)
        for (const tag of tags)
          expect(
            /^\d+\.\d+$/.test(tag ?? "") && row?.v.startsWith(`${tag}.`),
            `engine ${row?.v} vs image ${tag}`,
          ).toBe(true)
      }),
  )
})
