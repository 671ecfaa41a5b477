import {
  ClickHouse,
  type ClickHouseClient,
  ClickHouseConfig,
  type ClickHouseError,
  makeClickHouse,
} from "@rtoa/core"
import { type ConfigError, Effect, Layer, type Scope } from "effect"
import { SchemaMissing, StoreLocked } from "./errors.ts"

export const REQUIRED_TABLES = ["raw_events", "metrics_minutely", "metrics_minutely_input"] as const

/** Fails, with what to do, when `make ddl` has not been run. */
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

/**
 * The writing ClickHouse client for `command`. In local mode the embedded store admits one
 * process, and the live processor is usually that process: then this fails before anything is
 * read or written, and says to stop the processor. Against a ClickHouse server both can run.
 */
export const openStore = (
  command: string,
): Effect.Effect<
  ClickHouseClient,
  StoreLocked | SchemaMissing | ClickHouseError | ConfigError.ConfigError,
  Scope.Scope
> =>
  Effect.gen(function* () {
    const config = yield* ClickHouseConfig
    const ch = yield* makeClickHouse(config).pipe(
      Effect.mapError((e) =>
        e.reason !== "Locked"
          ? e
          : new StoreLocked({
              message:
                `${e.message} (most likely the processor, \`make processor-run\`): in local mode the embedded store allows one process at a time.\n` +
                `Nothing was changed. Stop the processor (Ctrl-C), run \`rtoa ${command}\` again, then start the processor again; ` +
                "the processor catches up from its committed offsets. (With a ClickHouse server, CLICKHOUSE_URL, both can run at once.)",
            }),
      ),
    )
    yield* checkSchema(ch)
    return ch
  })

export const StoreLive = (
  command: string,
): Layer.Layer<ClickHouse, StoreLocked | SchemaMissing | ClickHouseError | ConfigError.ConfigError> =>
  Layer.scoped(ClickHouse, openStore(command))
