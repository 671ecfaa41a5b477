import * as path from "node:path"
import { describe, expect, it } from "@effect/vitest"
import { applyMigrations, ClickHouse, type ClickHouseConfig, makeClickHouse } from "@rtoa/core"
import { repoRoot, tempDir } from "@rtoa/core/test/support/it.ts"
import { Effect, Layer, TestClock } from "effect"
import { AlertStateStore, AlertStateStoreLive } from "../src/alerts/state-store.ts"

/**
 * The alert state store on the real engine (the twin of the in-memory store the runner's unit
 * tests use): what is saved is what a restart loads, the newest row per rule wins, and a store
 * without its table answers "nothing saved" instead of failing the processor.
 */

const embedded = (prefix: string): ClickHouseConfig => ({
  _tag: "Embedded",
  dataPath: path.join(tempDir(prefix), "chdb"),
  database: "default",
})
const storeOn = (config: ClickHouseConfig) =>
  Effect.gen(function* () {
    const ch = yield* makeClickHouse(config)
    const store = yield* Effect.provide(
      AlertStateStore,
      AlertStateStoreLive.pipe(Layer.provide(Layer.succeed(ClickHouse, ch))),
    )
    return { ch, store }
  })

const firing = {
  state: "firing" as const,
  since: Date.parse("2026-12-04T10:00:00.123Z"),
  value: 95.5,
  threshold: 30,
  message: "lag 95.5 s over 30 s",
}

describe("alert states in ClickHouse (alert_states)", () => {
  it.scoped("saved transitions load back, newest per rule; a rule's other fields kept exactly", () =>
    Effect.gen(function* () {
      const { ch, store } = yield* storeOn(embedded("alert-states"))
      yield* applyMigrations(ch, path.join(repoRoot, "db"))
      yield* TestClock.setTime(Date.parse("2026-12-04T10:00:01Z"))
      yield* store.save([
        { rule: "lag", kind: "consumer_lag", state: { ...firing, state: "pending", value: 40 } },
        { rule: "fresh", kind: "freshness", state: { ...firing, value: null, threshold: null } },
      ])
      yield* TestClock.setTime(Date.parse("2026-12-04T10:01:01Z"))
      yield* store.save([{ rule: "lag", kind: "consumer_lag", state: firing }])
      const loaded = yield* store.load
      expect(loaded.get("lag")).toEqual({ kind: "consumer_lag", state: firing })
      expect(loaded.get("fresh")).toEqual({
        kind: "freshness",
        state: { ...firing, value: null, threshold: null },
      })
      expect(loaded.size).toBe(2)
    }),
  )

  it.scoped("without the table: nothing saved, no failure", () =>
    Effect.gen(function* () {
      const { store } = yield* storeOn(embedded("alert-states-none"))
      yield* store.save([{ rule: "lag", kind: "consumer_lag", state: firing }])
      expect((yield* store.load).size).toBe(0)
    }),
  )
})
