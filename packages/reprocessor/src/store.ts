import {
  ClickHouse,
  type ClickHouseClient,
  ClickHouseConfig,
  type ClickHouseError,
  checkSchema,
  makeClickHouse,
  type SchemaMissing,
} from "@rtoa/core"
import { type ConfigError, Effect, Layer, type Scope } from "effect"
import { StoreLocked } from "./errors.ts"

/**
 * The writing ClickHouse client for `command`. In local mode the embedded store admits one
 * process, and the live processor is usually that process: then this fails before anything is
 * read or written, and says to stop the processor. Against a ClickHouse server both can run.
 */
const openStore = (
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
