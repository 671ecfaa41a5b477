/**
 * event_time rules, shared by the Schema (event.ts) and the fast path (event-fast.ts).
 *
 * Text form: ISO-8601 with an explicit offset, checked strictly. `Date.parse` alone accepts
 * impossible dates (2026-02-30 becomes March 2) and `24:00` (next midnight), and refuses leap
 * seconds; here every component must be in range, so what is stored is what was written.
 * Numeric form: whole epoch milliseconds.
 */

/** The shape of the text form (ranges are checked by parseIsoWithOffset). */
export const isoWithOffset =
  /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(?:Z|([+-])(\d{2}):?(\d{2}))$/

/**
 * The sane range of event times: from 2000-01-01 (anything earlier is almost always a unit
 * mistake, such as epoch seconds read as milliseconds) up to 2100-01-01. Events ahead of the
 * processor clock by more than MAX_CLOCK_SKEW_MS are refused separately (event_time_in_future).
 */
export const EVENT_TIME_MIN_MS = Date.UTC(2000, 0, 1)
export const EVENT_TIME_MAX_MS = Date.UTC(2100, 0, 1)

export const inEventTimeRange = (ms: number): boolean => ms >= EVENT_TIME_MIN_MS && ms < EVENT_TIME_MAX_MS

const daysInMonth = (year: number, month: number): number => new Date(Date.UTC(year, month, 0)).getUTCDate()

/** Epoch milliseconds of a strictly valid ISO-8601 time with offset, or undefined. */
export const parseIsoWithOffset = (text: string): number | undefined => {
  const m = isoWithOffset.exec(text)
  if (m === null) return undefined
  const [, y, mo, d, h, mi, s, frac, sign, oh, om] = m
  const year = Number(y)
  const month = Number(mo)
  const day = Number(d)
  const hour = Number(h)
  const minute = Number(mi)
  const second = s === undefined ? 0 : Number(s)
  const offsetHours = oh === undefined ? 0 : Number(oh)
  const offsetMinutes = om === undefined ? 0 : Number(om)
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return undefined
  if (hour > 23 || minute > 59 || second > 59 || offsetHours > 23 || offsetMinutes > 59) return undefined
  // Sub-millisecond digits are truncated, as Date.parse does.
  const millis = frac === undefined ? 0 : Number(frac.slice(0, 3).padEnd(3, "0"))
  const date = new Date(0)
  date.setUTCFullYear(year, month - 1, day)
  date.setUTCHours(hour, minute, second, millis)
  const offset = (offsetHours * 60 + offsetMinutes) * 60_000
  return date.getTime() - (sign === "-" ? -offset : offset)
}

/** The largest time a JavaScript Date holds (year 275760). */
export const MAX_EPOCH_MS = 8_640_000_000_000_000
