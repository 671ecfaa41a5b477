import type { ClickHouseClient } from "@rtoa/core"
import { DEFAULT_PARTITIONS_PER_INSERT } from "@rtoa/pipeline"
import { Effect } from "effect"

/**
 * The start-up look at the engine: its version (printed, so a log says what ran), the settings
 * the pipeline depends on, and known hazards, each a warning naming the setting and its effect.
 */
export interface EngineReport {
  readonly version: string
  /** The INSERT partition limit the sink splits by. */
  readonly maxPartitionsPerInsert: number
  readonly warnings: ReadonlyArray<string>
}

const watched = [
  "max_partitions_per_insert_block",
  "async_insert",
  "wait_for_async_insert",
  "input_format_json_throw_on_bad_escape_sequence",
  "distributed_foreground_insert",
] as const

export const inspectEngine = (ch: ClickHouseClient) =>
  Effect.gen(function* () {
    const [{ version = "unknown" } = {}] = yield* ch.query<{ version: string }>("SELECT version() AS version")
    const rows = yield* ch.query<{ name: string; value: string }>(
      "SELECT name, value FROM system.settings WHERE name IN {names:Array(String)}",
      { names: [...watched] },
    )
    const setting = new Map(rows.map((r) => [r.name, r.value]))
    const tables = yield* ch.query<{ name: string; engine: string }>(
      `SELECT name, engine FROM system.tables WHERE database = currentDatabase()
       AND name IN ('raw_events', 'metrics_minutely', 'raw_events_local', 'metrics_minutely_local')`,
    )
    const engines = new Map(tables.map((t) => [t.name, t.engine]))
    const distributed = engines.get("raw_events") === "Distributed"
    // On a cluster (db/cluster) the rows live in the `_local` table under each Distributed one.
    const engine = (name: string) => engines.get(distributed ? `${name}_local` : name) ?? engines.get(name)
    const warnings: Array<string> = []
    if (setting.get("async_insert") === "1" && setting.get("wait_for_async_insert") === "0")
      warnings.push(
        "async_insert=1 with wait_for_async_insert=0: the engine acknowledges an INSERT before writing it, so offsets could be committed for rows a crash then loses; set wait_for_async_insert=1",
      )
    if (setting.get("input_format_json_throw_on_bad_escape_sequence") === "0")
      warnings.push(
        "input_format_json_throw_on_bad_escape_sequence=0: bad escapes would be stored as they are instead of refused (the decode stage refuses lone surrogates anyway)",
      )
    if (distributed && setting.get("distributed_foreground_insert") === "0")
      warnings.push(
        "distributed_foreground_insert=0: an INSERT into a Distributed table returns once its rows are queued on the node that took it, before they reach their shards: offsets are committed for rows that only that node holds, and the counts refresher may read a minute before its rows arrive; set distributed_foreground_insert=1 for the processor's user",
      )
    const raw = engine("raw_events")
    if (raw !== undefined && !raw.includes("ReplacingMergeTree"))
      warnings.push(`raw_events is ${raw}, not ReplacingMergeTree: FINAL will not collapse replayed events`)
    const metrics = engine("metrics_minutely")
    if (metrics !== undefined && !metrics.includes("AggregatingMergeTree"))
      warnings.push(`metrics_minutely is ${metrics}, not AggregatingMergeTree: minute states will not merge`)
    const limit = Number(setting.get("max_partitions_per_insert_block") ?? DEFAULT_PARTITIONS_PER_INSERT)
    return {
      version,
      maxPartitionsPerInsert: Number.isInteger(limit) && limit > 0 ? limit : DEFAULT_PARTITIONS_PER_INSERT,
      warnings,
    } satisfies EngineReport
  })
