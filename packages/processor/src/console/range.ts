import type { RangeQuery } from "@rtoa/dashboard"

/** A request's time range, step and filters, as the console's queries use them. */
export interface Range {
  readonly from: number
  readonly to: number
  readonly step: number
  readonly source: string
  readonly type: string
}

/** A minute: the step at which the finalized per-minute rows answer without merging states. */
export const MINUTE = 60

/** At most this many points by default: a day of minutes (uPlot draws it easily). */
const MAX_POINTS = 1_440

/**
 * Whole minutes, the range aligned to the step. The default step is a minute up to 24 h, so the
 * page's presets read the finalized rows; longer ranges get the smallest whole-minute step that
 * keeps them within MAX_POINTS.
 */
export const normalizeRange = (q: RangeQuery): Range => {
  const span = Math.max(MINUTE, q.to - q.from)
  const step = q.step ?? Math.max(MINUTE, Math.ceil(span / MAX_POINTS / MINUTE) * MINUTE)
  const from = Math.floor(q.from / step) * step
  const to = Math.max(from + step, Math.ceil(q.to / step) * step)
  return { from, to, step, source: q.source ?? "", type: q.type ?? "" }
}

export const params = (r: Range, shift = 0) => ({
  from: r.from - shift,
  to: r.to - shift,
  step: r.step,
  source: r.source,
  type: r.type,
})

export const window = `time_window >= toDateTime({from:UInt32}, 'UTC') AND time_window < toDateTime({to:UInt32}, 'UTC')`
export const filters = `({source:String} = '' OR event_source = {source:String}) AND ({type:String} = '' OR event_type = {type:String})`
export const bucket = (column: string) =>
  `toUInt32(toStartOfInterval(${column}, toIntervalSecond({step:UInt32}), 'UTC'))`

export const times = (r: Range) =>
  Array.from({ length: Math.round((r.to - r.from) / r.step) }, (_, i) => r.from + i * r.step)

/** Values keyed by point time, laid out on the range's points (null where absent). */
export const series = (r: Range, rows: ReadonlyArray<{ readonly t: number; readonly v: number }>) => {
  const byTime = new Map(rows.map((x) => [Number(x.t), Number(x.v)]))
  return times(r).map((t) => byTime.get(t) ?? null)
}
