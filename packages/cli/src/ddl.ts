import * as path from "node:path"
import {
  applyMigrations,
  ClickHouseClusterConfig,
  ClickHouseConfig,
  HomeDir,
  makeClickHouse,
} from "@rtoa/core"
import { Console, Effect } from "effect"

/**
 * `make ddl`: apply db/*.sql in order, once each, recording them in schema_migrations. With
 * CLICKHOUSE_CLUSTER set, db/cluster/*.sql instead, ON CLUSTER through the node CLICKHOUSE_URL names.
 */
export const ddlCommand = Effect.scoped(
  Effect.gen(function* () {
    const config = yield* ClickHouseConfig
    const cluster = yield* ClickHouseClusterConfig
    const home = yield* HomeDir
    if (cluster !== undefined && config._tag === "Embedded")
      return yield* Effect.fail(
        new Error(
          `CLICKHOUSE_CLUSTER=${cluster.cluster} needs a server: set CLICKHOUSE_URL to a node of that cluster (the embedded engine is one node). Nothing was changed.`,
        ),
      )
    const where = `${config._tag === "Http" ? config.url : config.dataPath}${cluster === undefined ? "" : `, cluster ${cluster.cluster}`}`
    const ch = yield* makeClickHouse(config).pipe(
      Effect.catchTag("ClickHouseError", (e) =>
        e.reason === "Locked"
          ? Effect.fail(
              new Error(
                `${e.message} (most likely \`make processor-run\`): the embedded store allows one process at a time.\n` +
                  "Nothing was changed. Stop that process (Ctrl-C), run `make ddl`, then start it again.",
              ),
            )
          : Effect.fail(e),
      ),
    )
    const dir = path.join(home, "db", ...(cluster === undefined ? [] : ["cluster"]))
    const report = yield* applyMigrations(ch, dir, cluster)
    for (const file of report.applied) yield* Console.log(`applied  ${file}`)
    for (const file of report.skipped) yield* Console.log(`current  ${file}`)
    yield* Console.log(
      `ddl: ${report.applied.length} applied, ${report.skipped.length} already current (${where})`,
    )
  }),
)
