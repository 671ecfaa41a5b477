import { describe, expect, it } from "@effect/vitest"
import { ConfigProvider, Effect, Either } from "effect"
import { ClickHouseClusterConfig, renderClusterStatement } from "../src/cluster-ddl.ts"

const load = (env: Record<string, string>) =>
  Effect.either(
    Effect.withConfigProvider(ClickHouseClusterConfig, ConfigProvider.fromMap(new Map(Object.entries(env)))),
  )

/** `${name}` as the db/cluster files write it. */
const ph = (name: string) => `\${${name}}`

describe("cluster DDL settings", () => {
  it.effect("CLICKHOUSE_CLUSTER empty or unset: a single node", () =>
    Effect.gen(function* () {
      expect(yield* load({})).toEqual(Either.right(undefined))
      expect(yield* load({ CLICKHOUSE_CLUSTER: "  " })).toEqual(Either.right(undefined))
    }),
  )

  it.effect("a cluster name, with the database the Distributed tables name", () =>
    Effect.gen(function* () {
      expect(yield* load({ CLICKHOUSE_CLUSTER: "rtoa", CLICKHOUSE_DATABASE: "analytics" })).toEqual(
        Either.right({ cluster: "rtoa", database: "analytics" }),
      )
    }),
  )

  it.effect("a name that could break out of its quotes fails with the variable's name", () =>
    Effect.gen(function* () {
      const cluster = yield* load({ CLICKHOUSE_CLUSTER: "rtoa' OR 1" })
      expect(Either.isLeft(cluster) && String(cluster.left)).toContain("CLICKHOUSE_CLUSTER:")
      const database = yield* load({ CLICKHOUSE_CLUSTER: "rtoa", CLICKHOUSE_DATABASE: "a b" })
      expect(Either.isLeft(database) && String(database.left)).toContain("CLICKHOUSE_DATABASE:")
    }),
  )

  it("fills in the cluster and the database, leaves the server's macros, refuses other placeholders", () => {
    const target = { cluster: "c1", database: "d1" }
    expect(
      renderClusterStatement(
        `CREATE TABLE t ON CLUSTER '${ph("cluster")}' ENGINE = Distributed('${ph("cluster")}', '${ph("database")}', 't_local', rand()) -- '{shard}' '{replica}'`,
        target,
      ),
    ).toEqual(
      Either.right(
        "CREATE TABLE t ON CLUSTER 'c1' ENGINE = Distributed('c1', 'd1', 't_local', rand()) -- '{shard}' '{replica}'",
      ),
    )
    expect(renderClusterStatement(`SELECT '${ph("shard")}'`, target)).toEqual(
      Either.left(`unknown placeholder(s) ${ph("shard")}`),
    )
  })
})
