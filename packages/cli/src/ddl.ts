import * as path from "node:path"
import { applyMigrations, ClickHouseConfig, HomeDir, makeClickHouse } from "@rtoa/core"
import { Console, Effect } from "effect"

/** `make ddl`: apply db/*.sql in order, once each, recording them in schema_migrations. */
export const ddlCommand = Effect.scoped(
  Effect.gen(function* () {
    const config = yield* ClickHouseConfig
    const home = yield* HomeDir
    const where = config._tag === "Http" ? config.url : config.dataPath
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
    const report = yield* applyMigrations(ch, path.join(home, "db"))
    for (const file of report.applied) yield* Console.log(`applied  ${file}`)
    for (const file of report.skipped) yield* Console.log(`current  ${file}`)
    yield* Console.log(
      `ddl: ${report.applied.length} applied, ${report.skipped.length} already current (${where})`,
    )
  }),
)
