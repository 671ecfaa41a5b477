import { Config, ConfigError, Either } from "effect"

/**
 * The migrations for a sharded, replicated ClickHouse (db/cluster/, applied by `make ddl` when
 * CLICKHOUSE_CLUSTER is set). Every table the programs use keeps its name as a Distributed table
 * over a `<name>_local` Replicated* table created ON CLUSTER on every node; materialized views sit
 * on the local tables of every node; inserts and queries go through the Distributed tables, so the
 * processor's statements are the same on one node and on a cluster.
 *
 * Why the per-minute counts stay exact across shards:
 * - raw_events is sharded by cityHash64(event_id): every copy of an event lands on one shard, where
 *   ReplacingMergeTree collapses it; FINAL on the Distributed table runs FINAL on each shard.
 * - The event counts are uniqExact states (sets of event_id hashes). Merging states is a set union
 *   wherever the states are: a query on the Distributed table has each shard aggregate its rows
 *   into states and the initiator merge those, exactly as one node merges its parts. The uniq
 *   states of users merge the same way.
 * - The per-minute tables are sharded by (time_window, dimension_channel), part of every one of
 *   their sorting keys: one key's rows, and a refreshed row and the row it replaces, share a shard.
 * packages/core/test/cluster-schema.test.ts parses every statement with the engine's parser and
 * keeps the columns and keys equal to the single-node schema (db/*.sql).
 */

/** Where the cluster statements go: the cluster's name (remote_servers) and the database. */
export interface ClusterTarget {
  readonly cluster: string
  readonly database: string
}

// Both end up quoted inside statements ('...'): no quote, backslash or space can get in.
const safeName = /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/

/**
 * CLICKHOUSE_CLUSTER (empty: a single node) with CLICKHOUSE_DATABASE, which the Distributed tables
 * name. A name that could not be written into a statement fails with the variable's name.
 */
export const ClickHouseClusterConfig: Config.Config<ClusterTarget | undefined> = Config.all({
  cluster: Config.string("CLICKHOUSE_CLUSTER").pipe(Config.withDefault("")),
  database: Config.string("CLICKHOUSE_DATABASE").pipe(Config.withDefault("default")),
}).pipe(
  Config.mapOrFail(({ cluster, database }) => {
    const name = cluster.trim()
    if (name === "") return Either.right(undefined)
    if (!safeName.test(name))
      return Either.left(
        ConfigError.InvalidData(
          [],
          "CLICKHOUSE_CLUSTER: expected a cluster name of the servers' remote_servers (letters, digits, _ . -), or empty for a single node",
        ),
      )
    if (!safeName.test(database))
      return Either.left(
        ConfigError.InvalidData(
          [],
          "CLICKHOUSE_DATABASE: with CLICKHOUSE_CLUSTER, expected a plain database name (letters, digits, _ . -)",
        ),
      )
    return Either.right({ cluster: name, database })
  }),
)

const placeholder = /\$\{([A-Za-z]+)\}/g

/**
 * A db/cluster statement with `${cluster}` and `${database}` filled in. The engine's own macros
 * (`{shard}`, `{replica}`, ...) stay for each server to expand. Any other `${...}` is an error.
 */
export const renderClusterStatement = (
  statement: string,
  target: ClusterTarget,
): Either.Either<string, string> => {
  const unknown = [...statement.matchAll(placeholder)]
    .map((m) => m[1])
    .filter((p) => p !== "cluster" && p !== "database")
  if (unknown.length > 0)
    return Either.left(`unknown placeholder(s) ${unknown.map((p) => `\${${p}}`).join(", ")}`)
  return Either.right(
    statement.replace(placeholder, (_, p: string) => (p === "cluster" ? target.cluster : target.database)),
  )
}

/**
 * The migration ledger on a cluster: one table replicated to every node (all shards share one
 * Keeper path, `{shard}-{replica}` names each node), so `make ddl` sees the same record whichever
 * node CLICKHOUSE_URL names. The single-node ledger is in migrations.ts; the test keeps them alike.
 */
export const clusterLedgerStatement = (cluster: string) =>
  `CREATE TABLE IF NOT EXISTS schema_migrations ON CLUSTER '${cluster}'
   (version UInt32, name String, checksum String, applied_at DateTime DEFAULT now())
   ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/all/{database}/{table}', '{shard}-{replica}', applied_at)
   ORDER BY version`
