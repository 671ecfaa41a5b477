import * as fs from "node:fs"
import * as path from "node:path"
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { type ClickHouseClient, makeClickHouse } from "../src/clickhouse.ts"
import type { ClickHouseConfig } from "../src/config.ts"
import { refreshMinuteCounts } from "../src/counts.ts"
import { applyMigrations } from "../src/migrations.ts"
import { GROUPED, groupedBy } from "../src/schema/dimensions.ts"
import { repoRoot, tempDir } from "./support/it.ts"

/**
 * metrics_minutely_rollup on the real engine: every set's events and users equal the same merge
 * on the states (uniqExactMerge / uniqMerge, grouped the same way), after the migration's backfill
 * of a store that had only metrics_minutely_counts, and after a refresh of new writes. One minute
 * holds more users than uniq keeps exactly (65,536), so its merged counts are estimates: the
 * rollup must give the same estimate, not the exact number.
 */

const config: ClickHouseConfig = {
  _tag: "Embedded",
  dataPath: path.join(tempDir("counts"), "chdb"),
  database: "default",
}
const T0 = Math.floor(Date.UTC(2026, 0, 5, 10, 0) / 1_000)
const MINUTES = [T0, T0 + 60, T0 + 120]
const DIMS = ["dimension_channel", "event_source", "event_type"] as const

/** db/ up to a version: a store as it was before that migration. */
const migrationsUpTo = (version: number) => {
  const dir = tempDir("db")
  for (const f of fs.readdirSync(path.join(repoRoot, "db")))
    if (Number(f.slice(0, 3)) <= version) fs.copyFileSync(path.join(repoRoot, "db", f), path.join(dir, f))
  return dir
}

/** A batch: per dimension set, user ids u<a>..u<b> (overlapping across sets) and fresh event ids. */
const batch = (minute: number, tag: string, users: number) =>
  `INSERT INTO metrics_minutely_input (time_window, dimension_channel, event_source, event_type, user_ids, event_ids)
   SELECT toDateTime(${minute}, 'UTC'), ['Web', 'Mobile', 'API'][1 + k % 3], ['s1', 's2'][1 + intDiv(k, 3) % 2],
          ['click', 'view'][1 + intDiv(k, 6) % 2],
          arrayMap(i -> concat('u', toString(i)), range(k * ${Math.floor(users / 4)}, k * ${Math.floor(users / 4)} + ${users})),
          arrayMap(i -> concat('${tag}-', toString(k), '-', toString(i)), range(${users} + k))
   FROM (SELECT number AS k FROM numbers(12))`

/** Expected rows of a set, straight from the states. */
const fromStates = (ch: ClickHouseClient, grouped: number) => {
  const keys = DIMS.filter((_, i) => (grouped & (4 >> i)) !== 0)
  const select = DIMS.map((d) => (keys.includes(d) ? d : `'' AS ${d}`)).join(", ")
  return ch.query<Record<string, string | number>>(
    `SELECT toUInt32(time_window) AS t, ${select}, uniqExactMerge(event_count_state) AS events,
            uniqMerge(unique_users_state) AS users
     FROM metrics_minutely GROUP BY ${["time_window", ...keys].join(", ")}
     ORDER BY t, dimension_channel, event_source, event_type`,
  )
}

const fromRollup = (ch: ClickHouseClient, grouped: number) =>
  ch.query<Record<string, string | number>>(
    `SELECT toUInt32(time_window) AS t, dimension_channel, event_source, event_type, events, users
     FROM metrics_minutely_rollup FINAL WHERE grouped = {grouped:UInt8}
     ORDER BY t, dimension_channel, event_source, event_type`,
    { grouped },
  )

const normalize = (rows: ReadonlyArray<Record<string, string | number>>) =>
  rows.map((r) => ({ ...r, t: Number(r.t), events: Number(r.events), users: Number(r.users) }))

const everySetMatches = (ch: ClickHouseClient) =>
  Effect.gen(function* () {
    for (let grouped = 0; grouped <= 7; grouped++) {
      const expected = normalize(yield* fromStates(ch, grouped))
      expect(expected.length).toBeGreaterThan(0)
      expect(normalize(yield* fromRollup(ch, grouped)), `grouped ${grouped}`).toEqual(expected)
    }
  })

describe("metrics_minutely_rollup (real engine)", () => {
  it.scoped("the backfill and every refresh give each set the states' own merge", () =>
    Effect.gen(function* () {
      const ch = yield* makeClickHouse(config)
      // A store from before db/006: states and the exact counts as the old refresh wrote them.
      yield* applyMigrations(ch, migrationsUpTo(5))
      yield* ch.command(batch(MINUTES[0] ?? 0, "a", 200))
      yield* ch.command(batch(MINUTES[1] ?? 0, "b", 30_000))
      yield* ch.command(batch(MINUTES[1] ?? 0, "c", 20_000))
      yield* ch.command(
        `INSERT INTO metrics_minutely_counts
         SELECT time_window, dimension_channel, event_source, event_type, uniqExactMerge(event_count_state),
                uniqMerge(unique_users_state), now64(3)
         FROM metrics_minutely GROUP BY time_window, dimension_channel, event_source, event_type`,
      )
      const report = yield* applyMigrations(ch, path.join(repoRoot, "db"))
      expect(report.applied).toContain("006_console_rollup.sql")
      yield* everySetMatches(ch)
      // The merged minute is past uniq's exact range: an estimate, the same on both sides.
      const [big] = yield* fromRollup(ch, 0).pipe(
        Effect.map((rows) => rows.filter((r) => Number(r.t) === MINUTES[1])),
      )
      expect(Number(big?.events)).toBe(12 * (30_000 + 20_000) + 2 * 66)
      expect(Number(big?.users)).toBeGreaterThan(65_536)

      // New writes: a new minute and more of an old one, then the processor's refresh.
      yield* ch.command(batch(MINUTES[2] ?? 0, "d", 500))
      yield* ch.command(batch(MINUTES[0] ?? 0, "e", 300))
      yield* refreshMinuteCounts(ch, [(MINUTES[0] ?? 0) * 1_000, (MINUTES[2] ?? 0) * 1_000])
      yield* everySetMatches(ch)
      // metrics_minutely_counts (Grafana, alerts) still gets the full set, through the view.
      const counts = yield* ch.query<Record<string, string | number>>(
        `SELECT toUInt32(time_window) AS t, dimension_channel, event_source, event_type, events, users
         FROM metrics_minutely_counts FINAL ORDER BY t, dimension_channel, event_source, event_type`,
      )
      expect(normalize(counts)).toEqual(normalize(yield* fromStates(ch, 7)))
    }),
  )

  it("names the sets by their dimensions", () => {
    expect(groupedBy({ channel: true, source: true, type: true })).toBe(7)
    expect(groupedBy({ channel: false, source: false, type: false })).toBe(0)
    expect(groupedBy({ channel: true, source: false, type: true })).toBe(GROUPED.channel | GROUPED.type)
  })
})
