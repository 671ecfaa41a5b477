import type { ClickHouseClient } from "./clickhouse.ts"

/**
 * metrics_minutely_counts holds exact events and users per minute and dimension set, recomputed
 * from the states in metrics_minutely (db/004_console.sql). Whoever writes or replaces states
 * refreshes the minutes it touched: the processor's sink a few seconds behind its writes, the
 * reprocessor through the same sink, rebuild-metrics for its range.
 */
const recompute = (where: string) =>
  `INSERT INTO metrics_minutely_counts
   SELECT time_window, dimension_channel, event_source, event_type,
          uniqExactMerge(event_count_state), uniqMerge(unique_users_state), now64(3)
   FROM metrics_minutely
   WHERE ${where}
   GROUP BY time_window, dimension_channel, event_source, event_type`

/** Refreshes the counts of these minutes (epoch ms, minute starts). */
export const refreshMinuteCounts = (ch: ClickHouseClient, minutes: ReadonlyArray<number>) =>
  ch.command(
    recompute(
      // Whole numbers from our own clock arithmetic, rendered as numbers: nothing user-given.
      `time_window IN (${minutes.map((m) => `toDateTime(${Math.floor(m / 1_000)}, 'UTC')`).join(", ")})`,
    ),
  )

/** Refreshes the counts of every minute in [fromMs, toMs). */
export const refreshMinuteCountsBetween = (ch: ClickHouseClient, fromMs: number, toMs: number) =>
  ch.command(
    recompute(
      `time_window >= toDateTime(${Math.floor(fromMs / 1_000)}, 'UTC') AND time_window < toDateTime(${Math.ceil(toMs / 1_000)}, 'UTC')`,
    ),
  )
