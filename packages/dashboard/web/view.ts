/** What the viewer chose (time range, filters) and the server's clock as the health events tell it. */
import type { Compare, Range } from "./client.ts"

export type Preset = "15m" | "1h" | "6h" | "24h" | "custom"

export const PRESETS: ReadonlyArray<readonly [Preset, string, number]> = [
  ["15m", "15 分鐘", 900],
  ["1h", "1 小時", 3_600],
  ["6h", "6 小時", 21_600],
  ["24h", "24 小時", 86_400],
]

export interface View {
  preset: Preset
  /** The custom range (epoch seconds), used when preset is "custom". */
  from: number
  to: number
  source: string
  type: string
  compare: Compare
}

export const view: View = { preset: "1h", from: 0, to: 0, source: "", type: "", compare: "none" }

// Seconds to add to the browser's clock to get the server's (from each health snapshot).
let skew = 0
export function observeServerNow(serverNow: number): void {
  skew = serverNow - Date.now() / 1000
}

export function nowSec(): number {
  return Date.now() / 1000 + skew
}

/** The range the panels show: a preset ends with the current minute, a custom one is fixed. */
export function currentRange(): Range {
  if (view.preset === "custom") return { from: view.from, to: view.to }
  const span = PRESETS.find(([p]) => p === view.preset)?.[2] ?? 3_600
  const to = Math.ceil(nowSec() / 60) * 60
  return { from: to - span, to }
}

/** A live range (ending now) updates every second; a custom range in the past does not. */
export function isLive(r: Range): boolean {
  return r.to >= nowSec() - 60
}

/** Start of the last complete minute. */
export function lastCompleteMinute(): number {
  return Math.floor(nowSec() / 60) * 60 - 60
}

const PALETTE = ["#5b9cf5", "#f2a33a", "#4cc38a", "#c084fc", "#e5c07b", "#56b6c2", "#f87171", "#a3e635"]
const assigned = new Map<string, string>()

/** A channel keeps its colour for the life of the page, whatever else comes and goes. */
export function colorOf(name: string): string {
  let c = assigned.get(name)
  if (!c) {
    c = PALETTE[assigned.size % PALETTE.length] ?? "#888888"
    assigned.set(name, c)
  }
  return c
}
