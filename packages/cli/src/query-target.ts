import {
  ClickHouseConfig,
  clientEndpointToken,
  EndpointConfig,
  makeReadOnlyClickHouse,
  makeReadQueries,
  postProcessorQuery,
  processorHealthy,
  publicMessage,
} from "@rtoa/core"
import { type ConfigError, Effect, type Scope } from "effect"

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
 * /query endpoint answers (with the endpoint's token, read from PROCESSOR_HTTP_TOKEN or the
 * processor's token file); otherwise the store (or the ClickHouse server) is opened directly.
 * Read-only either way, with the same statement rules and limits.
 */
export const queryTarget: Effect.Effect<
  { readonly run: RunQuery; readonly via: string },
  Error | ConfigError.ConfigError,
  Scope.Scope
> = Effect.gen(function* () {
  const endpoint = yield* EndpointConfig
  const base = `http://${endpoint.host === "0.0.0.0" ? "127.0.0.1" : endpoint.host}:${endpoint.port}`
  const alive = yield* Effect.promise(() => processorHealthy(base))
  if (alive) return { run: processorQuery(base, clientEndpointToken(endpoint)), via: `processor at ${base}` }
  const config = yield* ClickHouseConfig
  const ch = yield* makeReadOnlyClickHouse(config, endpoint.limits).pipe(
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
  const queries = yield* makeReadQueries(ch).pipe(Effect.mapError((e) => new Error(e.message)))
  return {
    run: (sql, format) =>
      queries
        .run(sql, format)
        .pipe(
          Effect.mapError((e) =>
            e._tag === "QueryRefused"
              ? new Error(`refused: ${e.message}`)
              : new Error(publicMessage(e.message)),
          ),
        ),
    via: config._tag === "Http" ? `ClickHouse at ${config.url}` : `embedded store ${config.dataPath}`,
  }
})
