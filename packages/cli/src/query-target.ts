import {
  ClickHouseConfig,
  makeReadOnlyClickHouse,
  ProcessorConfig,
  postProcessorQuery,
  processorHealthy,
} from "@rtoa/core"
import { type ConfigError, Effect, Redacted, type Scope } from "effect"

/** Runs one SQL text and returns the formatted output, or an error message from ClickHouse. */
export type RunQuery = (sql: string, format: string) => Effect.Effect<string, Error>

const processorQuery =
  (base: string, token: string | undefined): RunQuery =>
  (sql, format) =>
    Effect.tryPromise({
      try: () => postProcessorQuery(base, sql, { format, token }),
      catch: (e) => (e instanceof Error ? e : new Error(String(e))),
    })

/**
 * Where operator queries go. While the processor runs it holds the embedded store, so its
 * /query endpoint answers; otherwise the store (or the ClickHouse server) is opened directly,
 * read-only either way.
 */
export const queryTarget: Effect.Effect<
  { readonly run: RunQuery; readonly via: string },
  Error | ConfigError.ConfigError,
  Scope.Scope
> = Effect.gen(function* () {
  const processor = yield* ProcessorConfig
  const base = `http://${processor.httpHost}:${processor.httpPort}`
  const alive = yield* Effect.promise(() => processorHealthy(base))
  if (alive) {
    const token = processor.httpToken === undefined ? undefined : Redacted.value(processor.httpToken)
    return { run: processorQuery(base, token), via: `processor at ${base}` }
  }
  const config = yield* ClickHouseConfig
  const ch = yield* makeReadOnlyClickHouse(config, {
    timeoutSeconds: processor.queryTimeoutSeconds,
    maxRows: processor.queryMaxRows,
  }).pipe(
    Effect.catchTag("ClickHouseError", (e) =>
      Effect.fail(
        e.reason === "Locked"
          ? new Error(
              `the embedded store ${config._tag === "Embedded" ? config.dataPath : ""} is held by another process and no processor answers at ${base}. ` +
                "Start the processor (`make processor-run`) to query through it, or stop the other process.",
            )
          : new Error(e.message),
      ),
    ),
  )
  return {
    run: (sql, format) => ch.queryText(sql, format).pipe(Effect.mapError((e) => new Error(e.message.trim()))),
    via: config._tag === "Http" ? `ClickHouse at ${config.url}` : `embedded store ${config.dataPath}`,
  }
})
