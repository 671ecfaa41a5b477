/**
 * Research tool: what one event costs the embedded engine (and the JS that feeds it) for each
 * way of writing a batch, on the real schema (db/*.sql) in a scratch chDB store, no broker.
 *   SHAPES=arrays,overlap node packages/bench/experiments/sink-shapes.ts [events] [batch] [rounds]
 * Shapes (alternated round by round, a fresh store each time):
 *   arrays:   the sink's write: raw_events rows, then one metrics_minutely_input row per minute
 *             and dimensions with the distinct user_ids and event_ids (JS groups them in Sets).
 *   overlap:  the same two inserts side by side (the client is a pool of engine sessions): what
 *             the pipeline does across batches, one batch's aggregates while the next one's rows go in.
 *   mv:       raw_events rows only, a materialized view over them computes the states; JS counts
 *             per group for integrity_minutely (no id Sets, no arrays sent twice).
 *   raw:      raw_events rows only.      null: the rows into a Null table (encode and parse only).
 *   js:       toSinkBatch only (grouping and rows, nothing sent).
 * INSERT_SETTINGS='{"k":v}' adds settings to the raw_events insert. Prints process CPU (every
 * thread: JS, V8, engine, merges) per event over the writes plus a 3 s tail for background merges,
 * the writes' wall time, and what refreshing the counts of the written minutes costs.
 */
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import {
  applyMigrations,
  type ClickHouseClient,
  type Event,
  makeClickHouse,
  refreshMinuteCounts,
} from "@rtoa/core"
import { type DecodedEvent, toSinkBatch } from "@rtoa/pipeline"
import { Effect } from "effect"

const [events = 300_000, batch = 10_000, rounds = 2] = process.argv.slice(2).map(Number)
const dbDir = path.resolve(import.meta.dirname, "../../../db")

const channels = ["Web", "App", "Kiosk", "Partner"]
const sources = ["web-frontend", "ios-app", "android-app", "kiosk-app", "partner-api"]
const types = ["page_view", "click", "purchase", "signup", "search", "add_to_cart"]
const now = Date.now() - 120_000
const decoded: ReadonlyArray<DecodedEvent> = Array.from({ length: events }, (_, i) => {
  const event = {
    event_id: `evt-${i.toString(36)}-${Math.random().toString(36).slice(2, 10)}`,
    user_id: `user-${(i * 7919) % 20_000}`,
    event_type: types[i % types.length],
    dimension_channel: channels[i % channels.length],
    event_source: sources[i % sources.length],
    event_time: now + Math.floor(i / 5),
    properties: `{"page":"/p/${i % 97}","amount":${i % 1000}}`,
  } as unknown as Event
  return {
    event,
    record: {
      topic: "t",
      partition: i % 3,
      offset: String(i),
      timestamp: now + Math.floor(i / 5) + 30,
      key: null,
      value: null,
      highWatermark: "0",
    },
  }
})

const MV = `CREATE MATERIALIZED VIEW raw_metrics_mv TO metrics_minutely AS
SELECT toStartOfMinute(event_time) AS time_window, dimension_channel, event_source, event_type,
       uniqState(user_id) AS unique_users_state, uniqExactState(event_id) AS event_count_state
FROM raw_events GROUP BY time_window, dimension_channel, event_source, event_type`

const insertSettings: Record<string, string | number> = JSON.parse(process.env.INSERT_SETTINGS ?? "{}")
type Shape = "arrays" | "overlap" | "mv" | "raw" | "null" | "js"

const write = (ch: ClickHouseClient, shape: Shape, slice: ReadonlyArray<DecodedEvent>) =>
  Effect.gen(function* () {
    const sink = toSinkBatch(slice)
    if (shape === "js") return
    if (shape === "overlap")
      return yield* Effect.all(
        [ch.insert("raw_events", sink.rows), ch.insert("metrics_minutely_input", sink.aggregates)],
        {
          concurrency: 2,
        },
      )
    if (shape === "null") return yield* ch.insert("raw_null", sink.rows)
    yield* ch.insert("raw_events", sink.rows, insertSettings)
    if (shape === "raw") return
    if (shape === "arrays") return yield* ch.insert("metrics_minutely_input", sink.aggregates)
    yield* ch.insert(
      "integrity_minutely",
      sink.aggregates.map((a) => ({
        time_window: a.time_window,
        dimension_channel: a.dimension_channel,
        received: a.received,
        late_events: a.late_events,
        max_lateness_ms: a.max_lateness_ms,
      })),
    )
  })

const cpu = () => {
  const u = process.cpuUsage()
  return (u.user + u.system) / 1e6
}

const once = (shape: Shape) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "sink-shapes-"))
  return Effect.scoped(
    Effect.gen(function* () {
      const ch = yield* makeClickHouse({ _tag: "Embedded", dataPath: dir, database: "default" })
      yield* applyMigrations(ch, dbDir)
      if (shape === "mv") yield* ch.command(MV)
      yield* ch.command("CREATE TABLE raw_null AS raw_events ENGINE = Null")
      const c0 = cpu()
      const t0 = performance.now()
      for (let i = 0; i < decoded.length; i += batch) yield* write(ch, shape, decoded.slice(i, i + batch))
      const wall = performance.now() - t0
      yield* Effect.sleep("3 seconds")
      const cpuUs = ((cpu() - c0) * 1e6) / decoded.length
      const check = yield* ch.query<{ n: string; e: string }>(
        "SELECT (SELECT count() FROM raw_events) AS n, (SELECT uniqExactMerge(event_count_state) FROM metrics_minutely) AS e",
      )
      console.log(
        `${shape.padEnd(7)} cpu ${cpuUs.toFixed(2)} µs/event (incl. 3 s tail)  writes ${((wall * 1000) / decoded.length).toFixed(2)} µs/event wall  rows ${check[0]?.n} events ${check[0]?.e}`,
      )
      const minutes = yield* ch.query<{ m: string }>(
        "SELECT DISTINCT toUnixTimestamp(time_window) * 1000 AS m FROM metrics_minutely",
      )
      for (let k = 0; k < 3; k++) {
        const r0 = performance.now()
        const rc = cpu()
        yield* refreshMinuteCounts(
          ch,
          minutes.map((m) => Number(m.m)),
        )
        console.log(
          `  refresh of ${minutes.length} minutes: ${(performance.now() - r0).toFixed(0)} ms wall, ${((cpu() - rc) * 1000).toFixed(0)} ms cpu`,
        )
      }
    }),
    // Removed once the scope closed the store's sessions.
  ).pipe(Effect.ensuring(Effect.sync(() => fs.rmSync(dir, { recursive: true, force: true }))))
}

await Effect.runPromise(
  Effect.gen(function* () {
    const shapes = (process.env.SHAPES ?? "arrays,mv").split(",") as Array<Shape>
    for (let r = 0; r < rounds; r++)
      for (const s of r % 2 === 0 ? shapes : [...shapes].reverse()) yield* once(s)
  }),
)
