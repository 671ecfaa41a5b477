import { MAX_EPOCH_MS } from "@rtoa/core"
import { MINUTE_MS, minuteOf } from "@rtoa/pipeline"
import { Either } from "effect"
import { InvalidRange, InvalidTime } from "./errors.ts"

/** A half-open time range [fromMs, toMs) in epoch milliseconds. */
export interface TimeRange {
  readonly fromMs: number
  readonly toMs: number
}

const FORMS =
  "ISO-8601 with an offset (e.g. 2026-11-25T10:00:00Z or 2026-11-25T18:00:00+08:00) or epoch milliseconds"

// Calendar fields are checked by hand: Date.parse accepts 2026-02-30 (as March 2) and 24:00.
const iso =
  /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(?:([Zz])|([+-])(\d{2}):?(\d{2}))?$/

/** Epoch ms below this (1973-03-03) are almost surely epoch seconds typed by mistake. */
const SMALLEST_PLAUSIBLE_MS = 100_000_000_000

const daysIn = (year: number, month: number) => new Date(Date.UTC(year, month, 0)).getUTCDate()

const parseIso = (m: RegExpExecArray): number | string => {
  const [, y, mo, d, h, mi, s, frac, z, sign, oh, om] = m
  const year = Number(y)
  const month = Number(mo)
  const day = Number(d)
  const hour = Number(h)
  const minute = Number(mi)
  const second = Number(s ?? "0")
  if (z === undefined && sign === undefined)
    return "it has no UTC offset; add Z (UTC) or an offset such as +08:00 (a local time is ambiguous)"
  if (month < 1 || month > 12) return `month ${mo} does not exist`
  if (day < 1 || day > daysIn(year, month)) return `day ${d} does not exist in ${y}-${mo}`
  if (hour > 23 || minute > 59 || second > 59) return `${h}:${mi}:${s ?? "00"} is not a time of day`
  const offsetMinutes = sign === undefined ? 0 : (sign === "-" ? -1 : 1) * (Number(oh) * 60 + Number(om))
  if (Number(oh ?? "0") > 23 || Number(om ?? "0") > 59) return `offset ${sign}${oh}:${om} is not valid`
  const millis = Number((frac ?? "").padEnd(3, "0").slice(0, 3))
  return Date.UTC(year, month - 1, day, hour, minute, second, millis) - offsetMinutes * MINUTE_MS
}

/** One --from/--to value: ISO-8601 with an offset, or epoch milliseconds. */
export const parseTime = (option: string, raw: string | undefined): Either.Either<number, InvalidTime> => {
  const value = (raw ?? "").trim()
  const fail = (why: string) =>
    Either.left(new InvalidTime({ option, value, message: `${option} ${JSON.stringify(value)}: ${why}` }))
  if (value === "") return fail(`missing; expected ${FORMS}`)
  if (/^\d+$/.test(value)) {
    const ms = Number(value)
    if (ms < SMALLEST_PLAUSIBLE_MS)
      return fail(
        `looks like epoch seconds; epoch milliseconds are expected (${value}000 for the same instant)`,
      )
    if (ms > MAX_EPOCH_MS) return fail("is out of range")
    return Either.right(ms)
  }
  const m = iso.exec(value)
  if (m === null) return fail(`cannot be read as a time; expected ${FORMS}`)
  const parsed = parseIso(m)
  return typeof parsed === "string" ? fail(parsed) : Either.right(parsed)
}

/** [from, to) from the two options; FROM must be strictly before TO. */
export const parseRange = (
  from: string | undefined,
  to: string | undefined,
): Either.Either<TimeRange, InvalidTime | InvalidRange> =>
  Either.gen(function* () {
    const fromMs = yield* parseTime("--from", from)
    const toMs = yield* parseTime("--to", to)
    if (fromMs >= toMs) {
      return yield* Either.left(
        new InvalidRange({
          message:
            fromMs === toMs
              ? `--from and --to are the same instant (${formatTime(fromMs)}): the range [FROM, TO) is empty`
              : `--from (${formatTime(fromMs)}) is after --to (${formatTime(toMs)}): FROM must be before TO`,
        }),
      )
    }
    return { fromMs, toMs }
  })

/** UTC ISO-8601, the form every report uses. */
export const formatTime = (ms: number): string => new Date(ms).toISOString()

export const formatRange = (range: TimeRange): string =>
  `[${formatTime(range.fromMs)}, ${formatTime(range.toMs)})`

/** The whole minutes a range touches: [floor(from), ceil(to)). Metrics exist per whole minute. */
export const minuteRange = (range: TimeRange): TimeRange => ({
  fromMs: minuteOf(range.fromMs),
  toMs: Math.ceil(range.toMs / MINUTE_MS) * MINUTE_MS,
})

/**
 * The metrics_minutely partition ids (PARTITION BY toYYYYMM(time_window)) that a range of whole
 * minutes touches, in order.
 */
export const monthPartitions = (range: TimeRange): ReadonlyArray<string> => {
  const ids: Array<string> = []
  const last = new Date(range.toMs - 1)
  let year = new Date(range.fromMs).getUTCFullYear()
  let month = new Date(range.fromMs).getUTCMonth()
  while (year < last.getUTCFullYear() || (year === last.getUTCFullYear() && month <= last.getUTCMonth())) {
    ids.push(`${year}${String(month + 1).padStart(2, "0")}`)
    month += 1
    if (month === 12) {
      month = 0
      year += 1
    }
  }
  return ids
}
