/** Times in the viewer's time zone (the wire carries epoch seconds, UTC) and numbers in zh-TW. */

const pad = (n: number, w = 2): string => String(n).padStart(w, "0")

export function timeZoneLabel(at = new Date()): string {
  const zone = Intl.DateTimeFormat().resolvedOptions().timeZone || "local"
  const off = -at.getTimezoneOffset()
  const sign = off < 0 ? "-" : "+"
  const abs = Math.abs(off)
  return `時區：${zone} (UTC${sign}${pad(Math.floor(abs / 60))}:${pad(abs % 60)})`
}

/** "2026-11-25 18:03:09" in local time. */
export function dateTime(sec: number): string {
  const d = new Date(sec * 1000)
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${clock(sec)}`
}

/** "18:03:09" in local time. */
export function clock(sec: number): string {
  const d = new Date(sec * 1000)
  return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`
}

/** "18:03" in local time. */
export function hhmm(sec: number): string {
  const d = new Date(sec * 1000)
  return `${pad(d.getHours())}:${pad(d.getMinutes())}`
}

/** Today's times as a clock, other days with the date in front. */
export function shortTime(sec: number, nowSec: number): string {
  const a = new Date(sec * 1000)
  const b = new Date(nowSec * 1000)
  const sameDay = a.toDateString() === b.toDateString()
  return sameDay ? clock(sec) : `${pad(a.getMonth() + 1)}/${pad(a.getDate())} ${clock(sec)}`
}

/** "3 小時 5 分" / "4 分 12 秒" / "9 秒" */
export function duration(sec: number): string {
  const s = Math.max(0, Math.round(sec))
  if (s < 60) return `${s} 秒`
  if (s < 3600) return `${Math.floor(s / 60)} 分 ${s % 60} 秒`
  if (s < 86_400) return `${Math.floor(s / 3600)} 小時 ${Math.floor((s % 3600) / 60)} 分`
  return `${Math.floor(s / 86_400)} 天 ${Math.floor((s % 86_400) / 3600)} 小時`
}

const intFmt = new Intl.NumberFormat("zh-TW", { maximumFractionDigits: 0 })
const decFmt = new Intl.NumberFormat("zh-TW", { maximumFractionDigits: 1 })
const compactFmt = new Intl.NumberFormat("zh-TW", { notation: "compact", maximumFractionDigits: 1 })

export const DASH = "—"

export function int(n: number | null | undefined): string {
  return n === null || n === undefined || !Number.isFinite(n) ? DASH : intFmt.format(n)
}

export function dec(n: number | null | undefined): string {
  return n === null || n === undefined || !Number.isFinite(n) ? DASH : decFmt.format(n)
}

const sigFmt = new Intl.NumberFormat("zh-TW", { maximumSignificantDigits: 3 })

/** Any magnitude readable: 12,345 / 12.3 / 0.034. */
export function num(n: number | null | undefined): string {
  if (n === null || n === undefined || !Number.isFinite(n)) return DASH
  const a = Math.abs(n)
  return a >= 100 ? intFmt.format(n) : a >= 1 ? decFmt.format(n) : sigFmt.format(n)
}

/** Axis ticks: "950", "1.2萬". */
export function compact(n: number): string {
  return Math.abs(n) < 10_000 ? decFmt.format(n) : compactFmt.format(n)
}

/** Milliseconds as "850 ms", "1.2 秒", "3.4 分". */
export function ms(n: number | null | undefined): string {
  if (n === null || n === undefined || !Number.isFinite(n)) return DASH
  if (n < 1000) return `${intFmt.format(n)} ms`
  if (n < 60_000) return `${decFmt.format(n / 1000)} 秒`
  return `${decFmt.format(n / 60_000)} 分`
}

export function bytes(n: number): string {
  if (n < 1024) return `${intFmt.format(n)} B`
  if (n < 1024 * 1024) return `${decFmt.format(n / 1024)} KiB`
  return `${decFmt.format(n / 1024 / 1024)} MiB`
}

/** Value of an <input type="datetime-local"> for epoch seconds, in local time. */
export function toLocalInput(sec: number): string {
  const d = new Date(sec * 1000)
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${hhmm(sec)}`
}

/** Epoch seconds from an <input type="datetime-local"> value (local time), or null. */
export function fromLocalInput(v: string): number | null {
  const t = new Date(v).getTime()
  return v && Number.isFinite(t) ? Math.floor(t / 1000) : null
}
