import { type ClickHouseClient, GROUPED, groupedBy } from "@rtoa/core"
import type { DimensionsResponse, MetricsResponse } from "@rtoa/dashboard"
import { Effect } from "effect"
import { bucket, filters, MINUTE, params, type Range, series, times, window } from "./range.ts"

/**
 * The business panel's reads. Events and users come from metrics_minutely_rollup (finalized per
 * minute for every combination of the filters, db/006_console_rollup.sql): one set per series, so
 * a day is 1,440 rows per series whatever the filters. Users do not add up across minutes: at a
 * step longer than a minute (ranges over 24 h, or a step asked for) they are merged from the uniq
 * states in metrics_minutely instead, which costs about 2 s per day of data at 1,000 events/s
 * (every state of the range is read; 48 h took 3.3-4.5 s on a shared 2-core box).
 */

interface CountRow {
  readonly t: number
  readonly grouped: number
  readonly channel: string
  readonly events: number
  readonly users: number
}

interface UserRow {
  readonly t: number
  readonly channel: string
  /** 1 on the rows over all channels (standard GROUPING: the column is not grouped). */
  readonly total_row: number
  readonly v: number
}

interface Point {
  readonly t: number
  readonly channel: string
  readonly v: number
}

/** The rollup's sets for the request's filters: per channel, and over all channels. */
const setsFor = (r: Range) => {
  const total = groupedBy({ channel: false, source: r.source !== "", type: r.type !== "" })
  return { perChannel: total | GROUPED.channel, total }
}

const counts = (ch: ClickHouseClient, r: Range, shift: number, perChannel: number, total: number) =>
  ch.query<CountRow>(
    // At a one-minute step a point is one row per set and channel: sum(users) is that row's value.
    `SELECT ${bucket("time_window")} AS t, grouped, dimension_channel AS channel, sum(events) AS events,
            sum(users) AS users
     FROM metrics_minutely_rollup FINAL
     WHERE grouped IN ({perChannel:UInt8}, {total:UInt8}) AND ${window} AND ${filters}
     GROUP BY t, grouped, channel`,
    { ...params(r, shift), perChannel, total },
  )

/** Users per point merged from the states: per channel (if asked) and over all channels. */
const stateUsers = (ch: ClickHouseClient, r: Range, shift: number, perChannel: boolean) =>
  ch.query<UserRow>(
    // One pass over the states for both series. GROUPING follows the SQL standard (the engine's
    // default; the read-only session may not set it): 1 where the column is aggregated away.
    perChannel
      ? `SELECT ${bucket("time_window")} AS t, dimension_channel AS channel,
                grouping(dimension_channel) AS total_row, uniqMerge(unique_users_state) AS v
         FROM metrics_minutely WHERE ${window} AND ${filters}
         GROUP BY GROUPING SETS ((t, dimension_channel), (t))`
      : `SELECT ${bucket("time_window")} AS t, '' AS channel, 1 AS total_row, uniqMerge(unique_users_state) AS v
         FROM metrics_minutely WHERE ${window} AND ${filters} GROUP BY t`,
    params(r, shift),
  )

/** The four series of a window (shifted back by `shift` s, its points moved onto this window's). */
const read = (ch: ClickHouseClient, r: Range, shift: number, perChannel: boolean) =>
  Effect.gen(function* () {
    const sets = setsFor(r)
    const [rows, merged] = yield* Effect.all(
      [
        counts(ch, r, shift, perChannel ? sets.perChannel : sets.total, sets.total),
        r.step === MINUTE ? Effect.succeed(undefined) : stateUsers(ch, r, shift, perChannel),
      ],
      { concurrency: 2 },
    )
    const at = (t: number) => Number(t) + shift
    const channelRows = rows.filter((x) => Number(x.grouped) === sets.perChannel && perChannel)
    const totalRows = rows.filter((x) => Number(x.grouped) === sets.total)
    const point = (x: { t: number; channel: string }, v: number): Point => ({
      t: at(x.t),
      channel: x.channel,
      v,
    })
    return {
      events: channelRows.map((x) => point(x, Number(x.events))),
      eventsTotal: totalRows.map((x) => point(x, Number(x.events))),
      users:
        merged === undefined
          ? channelRows.map((x) => point(x, Number(x.users)))
          : merged.filter((x) => Number(x.total_row) === 0).map((x) => point(x, Number(x.v))),
      usersTotal:
        merged === undefined
          ? totalRows.map((x) => point(x, Number(x.users)))
          : merged.filter((x) => Number(x.total_row) === 1).map((x) => point(x, Number(x.v))),
    }
  })

const byChannel = (r: Range, rows: ReadonlyArray<Point>) => {
  const channels = [...new Set(rows.map((x) => x.channel))].sort()
  return Object.fromEntries(
    channels.map(
      (c) =>
        [
          c,
          series(
            r,
            rows.filter((x) => x.channel === c),
          ),
        ] as const,
    ),
  ) as Record<string, ReadonlyArray<number | null>>
}

export const metricsQuery = (ch: ClickHouseClient, r: Range, compare: "none" | "1d" | "1w") =>
  Effect.gen(function* () {
    const [current, previous] = yield* Effect.all(
      [
        read(ch, r, 0, true),
        compare === "none"
          ? Effect.succeed(undefined)
          : read(ch, r, compare === "1d" ? 86_400 : 7 * 86_400, false),
      ],
      { concurrency: 2 },
    )
    const events = byChannel(r, current.events)
    const users = byChannel(r, current.users)
    return {
      from: r.from,
      to: r.to,
      step: r.step,
      time: times(r),
      channels: [...new Set([...Object.keys(events), ...Object.keys(users)])].sort(),
      events,
      users,
      eventsTotal: series(r, current.eventsTotal),
      usersTotal: series(r, current.usersTotal),
      ...(previous === undefined || compare === "none"
        ? {}
        : {
            compare: {
              offset: compare,
              eventsTotal: series(r, previous.eventsTotal),
              usersTotal: series(r, previous.usersTotal),
            },
          }),
    } satisfies MetricsResponse
  })

/** The values the filters offer: the rollup's one-dimension sets (a few rows per minute). */
export const dimensionsQuery = (ch: ClickHouseClient, r: Range) =>
  Effect.map(
    ch.query<{ channels: Array<string>; sources: Array<string>; types: Array<string> }>(
      `SELECT arraySort(groupUniqArrayIf(dimension_channel, grouped = ${GROUPED.channel})) AS channels,
              arraySort(groupUniqArrayIf(event_source, grouped = ${GROUPED.source})) AS sources,
              arraySort(groupUniqArrayIf(event_type, grouped = ${GROUPED.type})) AS types
       FROM metrics_minutely_rollup
       WHERE grouped IN (${GROUPED.channel}, ${GROUPED.source}, ${GROUPED.type}) AND ${window}`,
      params(r),
    ),
    ([row]): DimensionsResponse => ({
      channels: row?.channels ?? [],
      sources: row?.sources ?? [],
      types: row?.types ?? [],
    }),
  )
