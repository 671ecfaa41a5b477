import { createHash } from "node:crypto"
import * as fs from "node:fs"
import * as path from "node:path"
import { Effect, Either } from "effect"
import type { ClickHouseClient } from "./clickhouse.ts"
import { type ClusterTarget, clusterLedgerStatement, renderClusterStatement } from "./cluster-ddl.ts"
import { backfillRollup } from "./counts.ts"
import { MigrationError, messageOf, SchemaMissing } from "./errors.ts"
import { TABLES, type TableName } from "./schema/tables.ts"

/** One numbered file under db/: `NNN_name.sql`, statements separated by `;` at a line end. */
export interface Migration {
  readonly version: number
  readonly name: string
  readonly file: string
  readonly checksum: string
  readonly statements: ReadonlyArray<string>
}

export interface MigrationReport {
  readonly applied: ReadonlyArray<string>
  readonly skipped: ReadonlyArray<string>
}

const migrationFile = /^(\d+)_([A-Za-z0-9_-]+)\.sql$/

// Comments are dropped before splitting so a `;` inside one cannot end a statement.
export const splitStatements = (sql: string): ReadonlyArray<string> =>
  sql
    .split("\n")
    .map((line) => line.replace(/--.*$/, ""))
    .join("\n")
    .split(/;\s*(?:\n|$)/)
    .map((s) => s.trim())
    .filter((s) => s.length > 0)

export const readMigrations = (dir: string) =>
  Effect.try({
    try: (): ReadonlyArray<Migration> =>
      fs
        .readdirSync(dir)
        .flatMap((file) => {
          const m = migrationFile.exec(file)
          if (!m?.[1] || !m[2]) return []
          const text = fs.readFileSync(path.join(dir, file), "utf8")
          return [
            {
              version: Number(m[1]),
              name: m[2],
              file,
              checksum: createHash("sha256").update(text).digest("hex").slice(0, 16),
              statements: splitStatements(text),
            },
          ]
        })
        .sort((a, b) => a.version - b.version),
    catch: (cause) => new MigrationError({ file: dir, message: messageOf(cause), cause }),
  })

/**
 * Data a migration fills in, before it is recorded: code rather than SQL so it can go in bounded
 * chunks. It is written against today's columns (schema/tables.ts), so it runs after the whole
 * run's statements, when the tables have them; the migration is recorded after it. Each is safe to
 * run again (a run cut short is simply run again, its idempotent statements included).
 */
const afterStatements: Readonly<
  Record<number, (ch: ClickHouseClient) => Effect.Effect<unknown, { message: string }>>
> = {
  6: backfillRollup,
}

/** The ledger on a single node (a cluster's: cluster-ddl.ts clusterLedgerStatement). */
const ledgerStatement = `CREATE TABLE IF NOT EXISTS schema_migrations
     (version UInt32, name String, checksum String, applied_at DateTime DEFAULT now())
     ENGINE = ReplacingMergeTree(applied_at) ORDER BY version`

/** A migration's statements as sent: on a cluster, with its name and the database filled in. */
const statementsOf = (m: Migration, cluster: ClusterTarget | undefined) =>
  Effect.forEach(m.statements, (statement) =>
    cluster === undefined
      ? Effect.succeed(statement)
      : Either.match(renderClusterStatement(statement, cluster), {
          onLeft: (message) => Effect.fail(new MigrationError({ file: m.file, message })),
          onRight: Effect.succeed,
        }),
  )

/**
 * Applies, in order, the migrations not yet recorded in `schema_migrations`. Statements are
 * idempotent (IF NOT EXISTS), so a run cut short is simply run again. A recorded migration whose
 * file changed is an error: add a new numbered file instead. With `cluster`, `dir` holds the
 * cluster files (db/cluster/, every statement ON CLUSTER) and the ledger is replicated to every
 * node (cluster-ddl.ts).
 */
export const applyMigrations = (ch: ClickHouseClient, dir: string, cluster?: ClusterTarget) =>
  Effect.gen(function* () {
    const migrations = yield* readMigrations(dir)
    yield* ch.command(cluster === undefined ? ledgerStatement : clusterLedgerStatement(cluster.cluster))
    const rows = yield* ch.query<{ version: number; checksum: string }>(
      "SELECT version, checksum FROM schema_migrations FINAL",
    )
    const recorded = new Map(rows.map((r) => [Number(r.version), r.checksum]))
    const applied: Array<string> = []
    const skipped: Array<string> = []
    const filled: Array<{ m: Migration; fill: (typeof afterStatements)[number] }> = []
    const record = (m: Migration) =>
      ch.insert("schema_migrations", [{ version: m.version, name: m.name, checksum: m.checksum }])
    for (const m of migrations) {
      const checksum = recorded.get(m.version)
      if (checksum === m.checksum) {
        skipped.push(m.file)
        continue
      }
      if (checksum !== undefined) {
        return yield* new MigrationError({
          file: m.file,
          message: `${m.file} changed after it was applied (checksum ${checksum} -> ${m.checksum}); add a new numbered migration instead`,
        })
      }
      for (const statement of yield* statementsOf(m, cluster)) {
        yield* ch
          .command(statement)
          .pipe(Effect.mapError((e) => new MigrationError({ file: m.file, message: e.message, cause: e })))
      }
      const fill = afterStatements[m.version]
      if (fill === undefined) yield* record(m)
      else filled.push({ m, fill })
      applied.push(m.file)
    }
    for (const { m, fill } of filled) {
      yield* fill(ch).pipe(
        Effect.mapError((e) => new MigrationError({ file: m.file, message: e.message, cause: e })),
      )
      yield* record(m)
    }
    return { applied, skipped } satisfies MigrationReport
  })

/** The tables the processor and the reprocessor write (schema/tables.ts defines their columns). */
export const REQUIRED_TABLES = Object.keys(TABLES) as ReadonlyArray<TableName>

/** Fails, with what to do, when `make ddl` has not been run; changes nothing. */
export const checkSchema = (ch: ClickHouseClient) =>
  Effect.gen(function* () {
    const rows = yield* ch.query<{ name: string }>(
      "SELECT name FROM system.tables WHERE database = currentDatabase()",
    )
    const present = new Set(rows.map((r) => r.name))
    const missing = REQUIRED_TABLES.filter((t) => !present.has(t))
    if (missing.length > 0)
      return yield* new SchemaMissing({
        tables: missing,
        message: `missing tables ${missing.join(", ")}: run \`make ddl\` first; nothing was changed`,
      })
  })
