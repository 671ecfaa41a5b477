import { Effect } from "effect"
import type { ClickHouseClient } from "./clickhouse.ts"
import {
  DIMENSION_COLUMNS,
  DIMENSION_LIST,
  DIMENSIONS,
  type DimensionColumn,
  GROUPED_ALL,
} from "./schema/dimensions.ts"
import { columnList } from "./schema/tables.ts"

/**
 * Finalized per-minute counts, recomputed from the states in metrics_minutely (db/004_console.sql,
 * db/006_console_rollup.sql). Whoever writes or replaces states refreshes the minutes it touched:
 * the processor's sink a few seconds behind its writes, the reprocessor through the same sink,
 * rebuild-metrics for its range.
 *
 * One statement per refresh fills metrics_minutely_rollup with every combination of the console's
 * filters (`grouped`, below); its view copies the full set into metrics_minutely_counts. The
 * event_id sets are merged once, per dimension set (the expensive part: every id of the minute);
 * the coarser sets add those exact counts up and merge the small uniq states again. Merging the id
 * sets once per grouping set instead cost 5-8 times as much on the same minutes (measured).
 */

/** Every subset of these columns, in their order, the full set first. */
const subsets = (columns: ReadonlyArray<DimensionColumn>): ReadonlyArray<ReadonlyArray<DimensionColumn>> => {
  const [first, ...rest] = columns
  return first === undefined ? [[]] : subsets(rest).flatMap((s) => [[first, ...s], s])
}

/** The rollup's grouping sets: the minute with every subset of the dimensions. */
const groupingSets = subsets(DIMENSION_COLUMNS)
  .map((cols) => `(${["time_window", ...cols].join(", ")})`)
  .join(",\n     ")

// Standard GROUPING gives the first argument the highest bit: the dimensions by rollupBit, highest first.
const byBit = [...DIMENSIONS]
  .sort((a, b) => b.rollupBit - a.rollupBit)
  .map((d) => d.column)
  .join(", ")

/**
 * The rollup of `source` (rows of time_window, the dimensions, `e`: exact events, `u`: a uniq
 * state of users) into every combination of the console's filters.
 */
const rollupInsert = (source: string) =>
  `INSERT INTO metrics_minutely_rollup (${columnList("metrics_minutely_rollup")})
   SELECT time_window,
          -- Standard GROUPING: a bit is 1 where the column is NOT grouped (pinned below).
          bitXor(${GROUPED_ALL}, grouping(${byBit})),
          ${DIMENSION_LIST}, sum(e), uniqMerge(u), now64(3)
   FROM (${source})
   GROUP BY GROUPING SETS
   (
     ${groupingSets}
   )
   SETTINGS force_grouping_standard_compatibility = 1`

const recompute = (where: string) =>
  rollupInsert(
    `SELECT time_window, ${DIMENSION_LIST},
            uniqExactMerge(event_count_state) AS e, uniqMergeState(unique_users_state) AS u
     FROM metrics_minutely
     WHERE ${where}
     GROUP BY time_window, ${DIMENSION_LIST}`,
  )

// Whole seconds from our own clock arithmetic, rendered as numbers: nothing user-given.
const between = (fromS: number, toS: number) =>
  `time_window >= toDateTime(${fromS}, 'UTC') AND time_window < toDateTime(${toS}, 'UTC')`

/** Refreshes the counts of these minutes (epoch ms, minute starts). */
export const refreshMinuteCounts = (ch: ClickHouseClient, minutes: ReadonlyArray<number>) =>
  ch.command(
    recompute(
      `time_window IN (${minutes.map((m) => `toDateTime(${Math.floor(m / 1_000)}, 'UTC')`).join(", ")})`,
    ),
  )

/** Refreshes the counts of every minute in [fromMs, toMs). */
export const refreshMinuteCountsBetween = (ch: ClickHouseClient, fromMs: number, toMs: number) =>
  ch.command(recompute(between(Math.floor(fromMs / 1_000), Math.ceil(toMs / 1_000))))

const backfillHour = (hour: number) =>
  rollupInsert(
    `SELECT time_window, ${DIMENSION_LIST}, events AS e,
            arrayReduce('uniqState', emptyArrayString()) AS u
     FROM metrics_minutely_counts FINAL
     WHERE ${between(hour, hour + 3_600)}
     UNION ALL
     SELECT time_window, ${DIMENSION_LIST}, 0, unique_users_state
     FROM metrics_minutely
     WHERE ${between(hour, hour + 3_600)}`,
  )

/**
 * Fills metrics_minutely_rollup for the minutes counted before it existed (db/006): events from
 * metrics_minutely_counts (no event_id set is merged again), users from the states. An hour per
 * statement bounds the memory: one statement over a 24 h store at 1,000 events/s (and its copied
 * previous day) peaked at 4.7 GB. Returns the hours filled.
 */
export const backfillRollup = (ch: ClickHouseClient) =>
  Effect.gen(function* () {
    const hours = yield* ch.query<{ h: number }>(
      "SELECT DISTINCT toUInt32(toStartOfHour(time_window)) AS h FROM metrics_minutely ORDER BY h",
    )
    for (const { h } of hours) yield* ch.command(backfillHour(Number(h)))
    return hours.length
  })
