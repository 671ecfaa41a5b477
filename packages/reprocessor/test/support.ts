import { type ClickHouseClient, type EventInput, KafkaError } from "@rtoa/core"
import { decodeRecords, type EventSinkService, sourceRecord, toSinkBatch } from "@rtoa/pipeline"
import { Effect } from "effect"

/** Test helpers shared by the integration tests: ground truth and what ClickHouse holds. */

export const MINUTE = 60_000

export interface TestEvent {
  readonly event_id: string
  readonly user_id: string
  readonly event_type: string
  readonly dimension_channel: string
  readonly event_source: string
  readonly event_time: string
}

export const channels = ["Web", "Mobile", "API"] as const

/** `count` events from `startMs`, `stepMs` apart, over `users` users and three channels. */
export const makeEvents = (
  prefix: string,
  count: number,
  startMs: number,
  stepMs: number,
  users = 50,
): ReadonlyArray<TestEvent> =>
  Array.from({ length: count }, (_, i) => ({
    event_id: `${prefix}-${i}`,
    user_id: `user-${(i * 7_919) % users}`,
    event_type: i % 10 === 0 ? "purchase" : "page_view",
    dimension_channel: channels[i % 3] ?? "Web",
    event_source: "reprocessor-it",
    event_time: new Date(startMs + i * stepMs).toISOString(),
  }))

export interface MinuteMetric {
  readonly minute: string
  readonly channel: string
  readonly source: string
  readonly type: string
  readonly events: number
  readonly users: number
}

const minuteText = (ms: number) =>
  new Date(Math.floor(ms / MINUTE) * MINUTE).toISOString().slice(0, 19).replace("T", " ")

const order = (a: MinuteMetric, b: MinuteMetric) =>
  `${a.minute}|${a.channel}|${a.source}|${a.type}`.localeCompare(
    `${b.minute}|${b.channel}|${b.source}|${b.type}`,
  )

/** Per minute and dimensions: distinct events and users, from the events themselves. */
export const truth = (
  events: ReadonlyArray<TestEvent>,
  within: (ms: number) => boolean = () => true,
): ReadonlyArray<MinuteMetric> => {
  const groups = new Map<
    string,
    { key: Omit<MinuteMetric, "events" | "users">; ids: Set<string>; users: Set<string> }
  >()
  for (const e of events) {
    const ms = Date.parse(e.event_time)
    if (!within(ms)) continue
    const key = {
      minute: minuteText(ms),
      channel: e.dimension_channel,
      source: e.event_source,
      type: e.event_type,
    }
    const id = JSON.stringify(key)
    const g = groups.get(id) ?? { key, ids: new Set<string>(), users: new Set<string>() }
    g.ids.add(e.event_id)
    g.users.add(e.user_id)
    groups.set(id, g)
  }
  return [...groups.values()].map((g) => ({ ...g.key, events: g.ids.size, users: g.users.size })).sort(order)
}

/** metrics_minutely merged per minute and dimensions, for `where` (SQL over time_window). */
export const metrics = (ch: ClickHouseClient, where = "1") =>
  Effect.map(
    ch.query<{
      minute: string
      channel: string
      source: string
      type: string
      events: string
      users: string
    }>(
      `SELECT toString(time_window) AS minute, toString(dimension_channel) AS channel, toString(event_source) AS source,
              toString(event_type) AS type, uniqExactMerge(event_count_state) AS events, uniqMerge(unique_users_state) AS users
       FROM metrics_minutely WHERE ${where} GROUP BY time_window, dimension_channel, event_source, event_type`,
    ),
    (rows) =>
      rows
        .map((r) => ({ ...r, events: Number(r.events), users: Number(r.users) }))
        .filter((r) => r.events > 0)
        .sort(order),
  )

export const between = (fromMs: number, toMs: number) => (ms: number) => ms >= fromMs && ms < toMs

export const sqlWindow = (fromMs: number, toMs: number, column = "time_window") =>
  `${column} >= toDateTime('${minuteText(fromMs)}', 'UTC') AND ${column} < toDateTime('${minuteText(toMs)}', 'UTC')`

/** Writes events the way the processor does: decode -> window/group -> sink. */
export const ingest = (sink: EventSinkService, events: ReadonlyArray<TestEvent>) => {
  const records = events.map((e, i) => sourceRecord(0, i, JSON.stringify(e satisfies EventInput)))
  return sink.write(toSinkBatch(decodeRecords(records, Date.UTC(2100, 0, 1), 0).events))
}

/** Extra states no event justifies: what a bug (or a countState era) leaves behind. */
export const bogusStates = (ch: ClickHouseClient, minute: string, ids: number, channel = "Web") =>
  ch.insert("metrics_minutely_input", [
    {
      time_window: minute,
      dimension_channel: channel,
      event_source: "reprocessor-it",
      event_type: "page_view",
      user_ids: Array.from({ length: ids }, (_, i) => `bogus-user-${i}`),
      event_ids: Array.from({ length: ids }, (_, i) => `bogus-event-${minute}-${i}`),
    },
  ])

export const deleteMetrics = (ch: ClickHouseClient, where: string) =>
  ch.command(`ALTER TABLE metrics_minutely DELETE WHERE ${where} SETTINGS mutations_sync = 2`)

export const stagingTables = (ch: ClickHouseClient) =>
  Effect.map(
    ch.query<{ name: string }>(
      "SELECT name FROM system.tables WHERE database = currentDatabase() AND startsWith(name, 'metrics_minutely_rebuild_')",
    ),
    (rows) => rows.map((r) => r.name),
  )

export const kafkaStep = <A>(operation: string, f: () => Promise<A>) =>
  Effect.tryPromise({
    try: f,
    catch: (cause) => new KafkaError({ operation, message: String(cause), cause }),
  })
