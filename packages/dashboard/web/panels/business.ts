/**
 * 業務指標: events (exact) and unique users per point, stacked by dimension_channel, with
 * event_source / event_type filters, a dashed 前一天 / 前一週 total, and the last complete
 * minute as big figures (data-testid="last-minute-events" / "last-minute-users", data-minute).
 */
import type { DimensionsResponse, MetricsResponse } from "../../src/api.ts"
import { Chart, type Line } from "../charts.ts"
import { api, type Compare, type Range } from "../client.ts"
import { h } from "../dom.ts"
import { hhmm, int } from "../format.ts"
import { colorOf, lastCompleteMinute, view } from "../view.ts"
import { figure, panel, sum } from "../widgets.ts"

const COMPARE: ReadonlyArray<readonly [Compare, string]> = [
  ["none", "不比較"],
  ["1d", "前一天"],
  ["1w", "前一週"],
]

const TOTAL = "#e8ecf1"
const COMPARE_COLOR = "#ff9f6b"

function select(name: string, testid: string): HTMLSelectElement {
  return h("select", { name, "data-testid": testid })
}

function setOptions(sel: HTMLSelectElement, all: string, values: readonly string[], current: string): void {
  // Keep the chosen value even if it had no events in this range.
  const list = current && !values.includes(current) ? [current, ...values] : values
  sel.replaceChildren(h("option", { value: "" }, all), ...list.map((v) => h("option", { value: v }, v)))
  sel.value = current
}

export class BusinessPanel {
  readonly panel = panel("business", "業務指標", "每分鐘事件數（精確去重）與不重複使用者，依通路堆疊")
  private readonly source = select("source", "filter-source")
  private readonly type = select("type", "filter-type")
  private readonly compare = select("compare", "filter-compare")
  private readonly lastEvents = figure("最近一分鐘事件數", "last-minute-events")
  private readonly lastUsers = figure("最近一分鐘不重複使用者", "last-minute-users")
  private readonly rangeEvents = figure("區間事件數", "range-events")
  private readonly stepNote = h("span", { class: "muted" })
  private readonly events = new Chart({ title: "事件數", unit: "筆", height: 230, testid: "chart-events" })
  private readonly users = new Chart({
    title: "不重複使用者",
    unit: "人",
    height: 230,
    testid: "chart-users",
  })

  constructor(onFilters: () => void) {
    for (const [v, label] of COMPARE) this.compare.append(h("option", { value: v }, label))
    setOptions(this.source, "全部來源", [], "")
    setOptions(this.type, "全部類型", [], "")
    const changed = (): void => {
      view.source = this.source.value
      view.type = this.type.value
      view.compare = (COMPARE.find(([c]) => c === this.compare.value)?.[0] ?? "none") satisfies Compare
      onFilters()
    }
    for (const s of [this.source, this.type, this.compare]) s.addEventListener("change", changed)
    this.panel.tools.append(
      h("label", null, "來源 event_source", this.source),
      h("label", null, "類型 event_type", this.type),
      h("label", null, "比較", this.compare),
    )
    this.panel.body.append(
      h("div", { class: "figs" }, this.lastEvents.el, this.lastUsers.el, this.rangeEvents.el, this.stepNote),
      h("div", { class: "grid2" }, this.events.el, this.users.el),
    )
  }

  async refreshDimensions(r: Range): Promise<void> {
    const d: DimensionsResponse = await api.dimensions(r)
    setOptions(this.source, "全部來源", d.sources, view.source)
    setOptions(this.type, "全部類型", d.types, view.type)
  }

  async refresh(r: Range): Promise<void> {
    const filters = { source: view.source, type: view.type, compare: view.compare }
    const minute = lastCompleteMinute()
    try {
      const m = await api.metrics(r, filters)
      // A live range at a minute's step already holds the last complete minute: one engine read
      // per refresh fewer (every open page refreshes on each data version).
      const last =
        m.step === 60 && m.time.includes(minute)
          ? m
          : await api.metrics({ from: minute, to: minute + 60 }, { ...filters, compare: "none" }, 60)
      this.draw(m, r)
      this.showLastMinute(last, minute)
      this.panel.problem(null)
    } catch (e) {
      this.panel.problem(e)
      throw e
    }
  }

  private showLastMinute(m: MetricsResponse, minute: number): void {
    const i = m.time.indexOf(minute)
    // No row for the minute means no events in it: zero, not unknown.
    const events = i < 0 ? 0 : (m.eventsTotal[i] ?? 0)
    const users = i < 0 ? 0 : (m.usersTotal[i] ?? 0)
    const label = `${hhmm(minute)}–${hhmm(minute + 60)}`
    for (const [f, v] of [
      [this.lastEvents, events],
      [this.lastUsers, users],
    ] as const) {
      f.set(int(v), label)
      f.value.dataset.minute = String(minute)
      f.value.dataset.value = String(v)
    }
  }

  private draw(m: MetricsResponse, r: Range): void {
    const total = sum(m.eventsTotal)
    this.rangeEvents.set(
      int(total),
      m.compare
        ? `${m.compare.offset === "1d" ? "前一天" : "前一週"}：${int(sum(m.compare.eventsTotal))}`
        : "",
    )
    this.rangeEvents.value.dataset.value = String(total)
    this.stepNote.textContent = `每點 ${m.step / 60} 分鐘`
    const xRange: [number, number] = [r.from, r.to - m.step]
    for (const [chart, per, totals, cmp, totalLabel] of [
      [this.events, m.events, m.eventsTotal, m.compare?.eventsTotal, "合計"],
      [this.users, m.users, m.usersTotal, m.compare?.usersTotal, "合計（不重複）"],
    ] as const) {
      const lines: Line[] = m.channels.map((c) => ({ label: c, color: colorOf(c), stack: true }))
      const values = m.channels.map((c) => per[c] ?? [])
      lines.push({ label: totalLabel, color: TOTAL })
      values.push(totals)
      if (cmp && m.compare) {
        lines.push({
          label: m.compare.offset === "1d" ? "前一天合計" : "前一週合計",
          color: COMPARE_COLOR,
          dash: [6, 4],
        })
        values.push(cmp)
      }
      chart.update(m.time, lines, values, xRange)
    }
  }
}
