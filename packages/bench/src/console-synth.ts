import { pickChannel, pickEventType, pickSource, type Random } from "@rtoa/producer"

/**
 * Synthetic console data (pure SQL text): an hour at a time from numbers(), with the producer's
 * dimension mix (packages/producer/src/traffic.ts) and a Zipf-ish user population, straight into
 * the tables the console reads. Event i of an hour is at second i / rate; its dimension set and
 * user come from hashes of i, so every table agrees on the counts.
 */

export interface MixEntry {
  readonly channel: string
  readonly source: string
  readonly type: string
  /** Share of all events. */
  readonly p: number
}

// Each pick draws once from `random`: a fine grid of draws gives each choice's exact share.
const GRID = 1_000
const shares = <A>(pick: (random: Random) => A): ReadonlyMap<A, number> => {
  const out = new Map<A, number>()
  for (let i = 0; i < GRID; i++) {
    const u = (i + 0.5) / GRID
    const a = pick(() => u)
    out.set(a, (out.get(a) ?? 0) + 1 / GRID)
  }
  return out
}

/** The producer's channel × source × event type mix, most frequent first. */
export const trafficMix = (): ReadonlyArray<MixEntry> => {
  const out: Array<MixEntry> = []
  for (const [channel, pc] of shares(pickChannel))
    for (const [source, ps] of shares((r) => pickSource(channel, r)))
      for (const [type, pt] of shares((r) => pickEventType(channel, r)))
        out.push({ channel, source, type, p: pc * ps * pt })
  const total = out.reduce((s, e) => s + e.p, 0)
  return out.map((e) => ({ ...e, p: e.p / total })).sort((a, b) => b.p - a.p)
}

/** Our own constants only; refuse anything that would need escaping. */
const literal = (s: string) => {
  if (!/^[\w.-]+$/.test(s)) throw new RangeError(`unexpected dimension value ${JSON.stringify(s)}`)
  return `'${s}'`
}
const array = (xs: ReadonlyArray<string>) => `[${xs.map(literal).join(", ")}]`

export interface HourSpec {
  /** Start of the hour (epoch seconds). */
  readonly from: number
  readonly eventsPerSec: number
  /** Size of the user population. */
  readonly users: number
  readonly mix: ReadonlyArray<MixEntry>
}

const events = (s: HourSpec) => 3_600 * s.eventsPerSec
/** A uniform draw in [0, 1) for event `number` of this hour, one stream per `salt`. */
const uniform = (s: HourSpec, salt: number) => `(cityHash64(number, ${s.from}, ${salt}) % 1000000) / 1000000`
const minute = (s: HourSpec) =>
  `toStartOfMinute(toDateTime(${s.from} + intDiv(number, ${s.eventsPerSec}), 'UTC'))`

/** 1-based index into the mix: the first cumulative share above a uniform draw. */
const pick = (s: HourSpec) => {
  let sum = 0
  const cumulative = s.mix.map((e, i) => {
    sum += e.p
    return i === s.mix.length - 1 ? "1" : sum.toFixed(6)
  })
  return `arrayFirstIndex(x -> x > ${uniform(s, 1)}, [${cumulative.join(", ")}])`
}

// Continuous Zipf (exponent 1) by inverse CDF, H(k) ~ ln k + gamma: the producer's skew, closely.
const GAMMA = 0.5772
const user = (s: HourSpec) =>
  `concat('u-', leftPad(toString(greatest(1, least(${s.users}, toUInt32(floor(exp(${uniform(s, 2)} * ${(Math.log(s.users) + GAMMA).toFixed(6)} - ${GAMMA})))))), 6, '0'))`

/** metrics_minutely: one row per minute and dimension set, its uniq and uniqExact states. */
export const metricsSql = (s: HourSpec) => `INSERT INTO metrics_minutely
  (time_window, dimension_channel, event_source, event_type, unique_users_state, event_count_state)
SELECT tw, ${array(s.mix.map((e) => e.channel))}[k] AS ch, ${array(s.mix.map((e) => e.source))}[k] AS src,
       ${array(s.mix.map((e) => e.type))}[k] AS ty, uniqState(user_id), uniqExactState(event_id)
FROM (SELECT ${minute(s)} AS tw, ${pick(s)} AS k, ${user(s)} AS user_id,
             concat('syn-', toString(${s.from * s.eventsPerSec} + number)) AS event_id
      FROM numbers(${events(s)}))
GROUP BY tw, ch, src, ty`

/**
 * integrity_minutely: received per minute and channel (no duplicates: received = stored), 2% of
 * events up to 5 s late as the producer sends them (none a minute late, so late_events is 0).
 */
export const integritySql = (s: HourSpec) => `INSERT INTO integrity_minutely
  (time_window, dimension_channel, received, late_events, max_lateness_ms)
SELECT tw, ${array(s.mix.map((e) => e.channel))}[k] AS ch, count(), 0, max(lateness)
FROM (SELECT ${minute(s)} AS tw, ${pick(s)} AS k,
             if(${uniform(s, 3)} < 0.02, toUInt32(${uniform(s, 4)} * 5000), 0) AS lateness
      FROM numbers(${events(s)}))
GROUP BY tw, ch`

// Where a processor at 1,000/s puts its end-to-end latency (bucket upper bound s -> share).
const LATENCY_SHAPE: ReadonlyMap<number, number> = new Map([
  [0.15, 0.02],
  [0.2, 0.15],
  [0.25, 0.6],
  [0.3, 0.18],
  [0.4, 0.04],
  [0.5, 0.01],
])

/** ingest_stats: a row every 5 s, as one processor's sampler writes them. */
export const ingestStatsSql = (s: HourSpec, latencyBounds: ReadonlyArray<number>) => {
  const per = 5 * s.eventsPerSec
  // The buckets, then the overflow count (the processor's latencyDelta layout).
  const buckets = [...latencyBounds.map((b) => Math.round((LATENCY_SHAPE.get(b) ?? 0) * per)), 0]
  return `INSERT INTO ingest_stats
  (ts, processor, seconds, consumed, written, dead_letters, batches, max_batch_rows, sink_retries,
   latency_buckets, max_lag_records)
SELECT toDateTime(${s.from} + 5 * (number + 1), 'UTC'), 'bench-synthetic', 5, ${per}, ${per},
       if(number % 60 = 0, map('invalid_json', toUInt64(1)), CAST(map(), 'Map(String, UInt64)')),
       25, 150 + number % 100, 0, [${buckets.join(", ")}], number % 500
FROM numbers(720)`
}

/**
 * The day before [from, to), for compare=1d: the users states and the finalized counts (all that
 * query reads), shifted back 24 h. The per-event id sets are left empty: no console query reads
 * them, and copying them would double the synthesis.
 */
export const previousDaySql = (from: number, to: number): ReadonlyArray<string> => {
  const window = `time_window >= toDateTime(${from}, 'UTC') AND time_window < toDateTime(${to}, 'UTC')`
  return [
    `INSERT INTO metrics_minutely
       (time_window, dimension_channel, event_source, event_type, unique_users_state, event_count_state)
     SELECT time_window - INTERVAL 1 DAY, dimension_channel, event_source, event_type, unique_users_state,
            arrayReduce('uniqExactState', emptyArrayString())
     FROM metrics_minutely WHERE ${window}`,
    // Its view copies the full set into metrics_minutely_counts, as a refresh does.
    `INSERT INTO metrics_minutely_rollup
       (time_window, grouped, dimension_channel, event_source, event_type, events, users, computed_at)
     SELECT time_window - INTERVAL 1 DAY, grouped, dimension_channel, event_source, event_type, events, users,
            computed_at
     FROM metrics_minutely_rollup FINAL WHERE ${window}`,
  ]
}
