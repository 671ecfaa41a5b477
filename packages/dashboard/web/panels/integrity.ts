/**
 * 資料完整性: per event-time minute, received vs stored (duplicates absorbed), late events and
 * their worst lateness, dead letters; and freshness against the SLO, green or red at a glance.
 */
import type { HealthResponse, IntegrityResponse } from "../../src/api.ts"
import { Chart } from "../charts.ts"
import { api, type Range } from "../client.ts"
import { h } from "../dom.ts"
import { int, ms } from "../format.ts"
import { figure, max, panel, sum } from "../widgets.ts"

export class IntegrityPanel {
  readonly panel = panel("integrity", "資料完整性", "依事件時間的每分鐘：收到、儲存、去重、晚到與死信")
  private readonly fresh = figure("資料新鮮度", "freshness")
  private readonly received = figure("收到（有效記錄）", "integrity-received")
  private readonly stored = figure("儲存（不重複事件）", "integrity-stored")
  private readonly duplicates = figure("重複（已吸收）", "integrity-duplicates")
  private readonly late = figure("晚到事件", "integrity-late")
  private readonly dead = figure("死信", "integrity-dead-letters")
  private readonly counts = new Chart({ title: "收到 vs 儲存", unit: "筆／點", testid: "chart-integrity" })
  private readonly lateChart = new Chart({
    title: "晚到與死信",
    unit: "筆／點",
    rightUnit: "最大晚到",
    rightTicks: (v) => ms(v),
    testid: "chart-late",
  })

  constructor() {
    this.fresh.el.classList.add("fresh")
    this.panel.body.append(
      h(
        "div",
        { class: "figs" },
        ...[this.fresh, this.received, this.stored, this.duplicates, this.late, this.dead].map((f) => f.el),
      ),
      h("div", { class: "grid2" }, this.counts.el, this.lateChart.el),
    )
  }

  /** From every health event: the age of the newest written event against the SLO. */
  showFreshness(s: HealthResponse): void {
    const el = this.fresh.el
    const v = this.fresh.value
    v.dataset.sloMs = String(s.freshnessSloMs)
    if (s.freshnessMs === null) {
      this.fresh.set("尚無資料", `SLO ≤ ${ms(s.freshnessSloMs)}`)
      el.dataset.ok = "unknown"
      v.dataset.ok = "unknown"
      delete v.dataset.ms
      return
    }
    const ok = s.freshnessMs <= s.freshnessSloMs
    this.fresh.set(ms(s.freshnessMs), `${ok ? "✓ 符合" : "✗ 超過"} SLO ≤ ${ms(s.freshnessSloMs)}`)
    el.dataset.ok = String(ok)
    v.dataset.ok = String(ok)
    v.dataset.ms = String(s.freshnessMs)
  }

  async refresh(r: Range): Promise<void> {
    let d: IntegrityResponse
    try {
      d = await api.integrity(r)
      this.panel.problem(null)
    } catch (e) {
      this.panel.problem(e)
      throw e
    }
    const totals: Array<[ReturnType<typeof figure>, number]> = [
      [this.received, sum(d.received)],
      [this.stored, sum(d.stored)],
      [this.duplicates, sum(d.duplicates)],
      [this.late, sum(d.lateEvents)],
      [this.dead, sum(d.deadLetters)],
    ]
    for (const [f, n] of totals) {
      f.set(int(n), "本區間")
      f.value.dataset.value = String(n)
    }
    this.late.sub.textContent = `最大晚到 ${ms(max(d.maxLatenessMs))}`
    const step = d.time.length > 1 ? (d.time[1] ?? 0) - (d.time[0] ?? 0) : 60
    const xRange: [number, number] = [r.from, r.to - step]
    this.counts.update(
      d.time,
      [
        { label: "收到", color: "#5b9cf5" },
        { label: "儲存", color: "#4cc38a", dash: [5, 3] },
        { label: "重複", color: "#facc15", stack: true },
      ],
      [d.received, d.stored, d.duplicates],
      xRange,
    )
    this.lateChart.update(
      d.time,
      [
        { label: "晚到", color: "#c084fc", stack: true },
        { label: "死信", color: "#f87171" },
        { label: "最大晚到", color: "#e5c07b", right: true, fmt: (v) => ms(v) },
      ],
      [d.lateEvents, d.deadLetters, d.maxLatenessMs],
      xRange,
    )
  }
}
