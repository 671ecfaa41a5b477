/**
 * uPlot time-series charts: free lines and stacked areas (cumulative series with bands between
 * neighbours, restacked when a legend entry is toggled), local-time axes, a fixed x range so all
 * panels line up, and width that follows the layout.
 */
import uPlot from "uplot"
import { h } from "./dom.ts"
import { clock, compact, DASH, dateTime, hhmm, num } from "./format.ts"

export type Values = ReadonlyArray<number | null>

export interface Line {
  label: string
  color: string
  /** Part of the stacked areas (bottom first, in order) instead of a free line. */
  stack?: boolean
  dash?: number[]
  /** On the right-hand axis (a second unit). */
  right?: boolean
  fmt?: (v: number | null) => string
}

export interface ChartOptions {
  title: string
  /** Left axis unit, shown under the title. */
  unit: string
  rightUnit?: string
  /** Tick labels of the right axis when its unit needs them (e.g. durations). */
  rightTicks?: (v: number) => string
  height?: number
  testid?: string
}

const AXIS = "#a3adb8"
const GRID = "rgba(255,255,255,0.07)"
const FONT = "12px system-ui, 'Noto Sans CJK TC', sans-serif"

export function alpha(hex: string, a: number): string {
  const n = Number.parseInt(hex.slice(1), 16)
  return `rgba(${(n >> 16) & 255},${(n >> 8) & 255},${n & 255},${a})`
}

/** Tick labels: clock time, with the date under the first tick of each day. */
function timeTicks(_u: uPlot, splits: number[]): string[] {
  return splits.map((s, i) => {
    const t = s % 60 === 0 ? hhmm(s) : clock(s)
    const prev = splits[i - 1]
    const d = new Date(s * 1000)
    const newDay = prev === undefined || new Date(prev * 1000).toDateString() !== d.toDateString()
    return newDay ? `${t}\n${d.getMonth() + 1}/${d.getDate()}` : t
  })
}

const plainFmt = (v: number | null): string => (v === null ? DASH : num(v))

const fixed = new Map<number, Intl.NumberFormat>()
/** Value ticks with as many decimals as the tick spacing needs (0.05 steps show "0.05", not "0.1"). */
function valueTicks(fmt?: (v: number) => string): uPlot.Axis.DynamicValues {
  return (_u, splits, _axis, _space, incr) => {
    if (fmt) return splits.map(fmt)
    const digits = incr >= 1 ? 0 : Math.min(6, Math.ceil(-Math.log10(incr) - 1e-9))
    let f = fixed.get(digits)
    if (!f) {
      f = new Intl.NumberFormat("zh-TW", { minimumFractionDigits: digits, maximumFractionDigits: digits })
      fixed.set(digits, f)
    }
    const nf = f
    return splits.map((v) => (Math.abs(v) >= 10_000 ? compact(v) : nf.format(v)))
  }
}

export class Chart {
  readonly el: HTMLElement
  private readonly body: HTMLElement
  private readonly note: HTMLElement
  private readonly opts: ChartOptions
  private plot: uPlot | null = null
  private key = ""
  private lines: Line[] = []
  private raw: Values[] = []
  private x: number[] = []
  private xRange: [number, number] | null = null

  constructor(opts: ChartOptions) {
    this.opts = opts
    this.body = h("div", { class: "chart-body" })
    this.note = h("div", { class: "chart-empty" }, "尚無資料")
    const unit = opts.rightUnit ? `${opts.unit}｜右軸：${opts.rightUnit}` : opts.unit
    this.el = h(
      "figure",
      { class: "chart", ...(opts.testid ? { "data-testid": opts.testid } : {}) },
      h("figcaption", null, opts.title, h("small", null, unit)),
      this.body,
      this.note,
    )
    new ResizeObserver(() => this.resize()).observe(this.body)
  }

  /** New data; the plot is rebuilt only when the set of lines changes. */
  update(x: readonly number[], lines: Line[], values: Values[], xRange?: [number, number]): void {
    this.x = [...x]
    this.raw = values
    this.xRange = xRange ?? null
    // The server sends every point of the range, with or without data: "no data" means no values.
    this.note.hidden = values.some((v) => v.some((y) => y !== null))
    const key = JSON.stringify(lines.map((l) => [l.label, l.color, l.stack, l.dash, l.right]))
    if (key !== this.key || !this.plot) {
      this.key = key
      this.lines = lines
      this.build()
      return
    }
    this.lines = lines
    this.restack(this.plot)
  }

  private width(): number {
    return Math.max(200, Math.floor(this.body.clientWidth))
  }

  private resize(): void {
    const w = this.width()
    if (this.plot && this.plot.width !== w) this.plot.setSize({ width: w, height: this.opts.height ?? 200 })
  }

  private stacked(shown: (i: number) => boolean): { data: uPlot.AlignedData; bands: uPlot.Band[] } {
    const n = this.x.length
    const acc = new Array<number>(n).fill(0)
    // A point where no stacked series has data stays a gap, as the free lines show it.
    const some = new Array<boolean>(n).fill(false)
    this.lines.forEach((l, i) => {
      if (l.stack && shown(i))
        for (let j = 0; j < n; j++) if ((this.raw[i]?.[j] ?? null) !== null) some[j] = true
    })
    const edges: number[] = []
    const ys = this.lines.map((l, i) => {
      const vals = this.raw[i] ?? []
      if (!l.stack || !shown(i)) return Array.from({ length: n }, (_, j) => vals[j] ?? null)
      edges.push(i + 1)
      return Array.from({ length: n }, (_, j) => {
        if (!some[j]) return null
        const sum = (acc[j] ?? 0) + (vals[j] ?? 0)
        acc[j] = sum
        return sum
      })
    })
    // Each stacked series fills down to the one below it, not to zero.
    const bands: uPlot.Band[] = []
    for (let k = 1; k < edges.length; k++) {
      const upper = edges[k]
      const lower = edges[k - 1]
      if (upper !== undefined && lower !== undefined) bands.push({ series: [upper, lower] })
    }
    return { data: [this.x, ...ys], bands }
  }

  private restack(u: uPlot): void {
    const { data, bands } = this.stacked((i) => u.series[i + 1]?.show !== false)
    u.delBand(null)
    for (const b of bands) u.addBand(b)
    u.setData(data)
  }

  private build(): void {
    this.plot?.destroy()
    const { data, bands } = this.stacked(() => true)
    const hasRight = this.lines.some((l) => l.right)
    const axis = {
      stroke: AXIS,
      font: FONT,
      grid: { stroke: GRID, width: 1 },
      ticks: { stroke: GRID, width: 1 },
    }
    const series: uPlot.Series[] = [{ label: "時間", value: (_u, v) => (v === null ? DASH : dateTime(v)) }]
    this.lines.forEach((l, i) => {
      const fmt = l.fmt ?? plainFmt
      const s: uPlot.Series = {
        label: l.label,
        stroke: l.color,
        width: l.stack ? 1 : 1.5,
        scale: l.right ? "r" : "y",
        points: { show: false },
        // The legend shows each channel's own value, not the running sum that is drawn.
        value: (_u, _v, _si, idx) => fmt(idx === null ? null : (this.raw[i]?.[idx] ?? null)),
      }
      if (l.stack) s.fill = alpha(l.color, 0.5)
      if (l.dash) s.dash = l.dash
      series.push(s)
    })
    const zeroBased = (_u: uPlot, _min: number, max: number): uPlot.Range.MinMax => [
      0,
      max > 0 ? max * 1.08 : 1,
    ]
    const axes: uPlot.Axis[] = [
      { ...axis, values: timeTicks, size: 44 },
      { ...axis, scale: "y", size: 56, values: valueTicks() },
    ]
    if (hasRight)
      axes.push({
        ...axis,
        scale: "r",
        side: 1,
        size: 60,
        grid: { show: false },
        values: valueTicks(this.opts.rightTicks),
      })
    const opts: uPlot.Options = {
      width: this.width(),
      height: this.opts.height ?? 200,
      // Local time: the viewer's zone, as the header says.
      tzDate: (ts) => new Date(ts * 1000),
      scales: {
        x: { time: true, range: (_u, min, max) => this.xRange ?? [min, max] },
        y: { range: zeroBased },
        r: { range: zeroBased },
      },
      axes,
      series,
      bands,
      legend: { live: true },
      // Live data redraws every second, so zooming would be undone at once: no drag-zoom.
      cursor: { drag: { x: false, y: false, setScale: false } },
      hooks: { setSeries: [(u) => this.restack(u)] },
    }
    this.plot = new uPlot(opts, data, this.body)
  }
}
