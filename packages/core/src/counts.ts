import { Effect } from "effect"
import type { ClickHouseClient } from "./clickhouse.ts"

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

/** Bits of metrics_minutely_rollup.grouped: which dimensions a row is grouped by. */
export const GROUPED = { channel: 4, source: 2, type: 1 } as const

/** The `grouped` value of the rows grouped by these dimensions. */
export const groupedBy = (dims: { channel: boolean; source: boolean; type: boolean }) =>
  (dims.channel ? GROUPED.channel : 0) | (dims.source ? GROUPED.source : 0) | (dims.type ? GROUPED.type : 0)

/**
 * The rollup of `source` (rows of time_window, the three dimensions, `e`: exact events, `u`: a
 * uniq state of users) into every combination of the console's filters.
 */
const rollupInsert = (source: string) =>
  `INSERT INTO metrics_minutely_rollup
   SELECT time_window,
          -- Standard GROUPING: a bit is 1 where the column is NOT grouped (pinned below).
          bitXor(7, grouping(dimension_channel, event_source, event_type)),
          dimension_channel, event_source, event_type, sum(e), uniqMerge(u), now64(3)
   FROM (${source})
   GROUP BY GROUPING SETS
   (
     (time_window, dimension_channel, event_source, event_type),
     (time_window, dimension_channel, event_source),
     (time_window, dimension_channel, event_type),
     (time_window, event_source, event_type),
     (time_window, dimension_channel),
     (time_window, event_source),
     (time_window, event_type),
     (time_window)
   )
   SETTINGS force_grouping_standard_compatibility = 1`

const recompute = (where: string) =>
  rollupInsert(
    `SELECT time_window, dimension_channel, event_source, event_type,
            uniqExactMerge(event_count_state) AS e, uniqMergeState(unique_users_state) AS u
     FROM metrics_minutely
     WHERE ${where}
     GROUP BY time_window, dimension_channel, event_source, event_type`,
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
    `SELECT time_window, dimension_channel, event_source, event_type, events AS e,
            arrayReduce('uniqState', emptyArrayString()) AS u
     FROM metrics_minutely_counts FINAL
     WHERE ${between(hour, hour + 3_600)}
     UNION ALL
     SELECT time_window, dimension_channel, event_source, event_type, 0, unique_users_state
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
