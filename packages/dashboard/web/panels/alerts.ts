/**
 * 告警: every rule with its state, since when, value against threshold and message. Rows carry
 * data-testid="alert-<name>" and data-state; firing rules sort first and stand out.
 */
import type { AlertStatus, AlertsResponse } from "../../src/api.ts"
import { api } from "../client.ts"
import { fill, h, visibleText } from "../dom.ts"
import { duration, num, shortTime } from "../format.ts"
import { nowSec } from "../view.ts"
import { panel } from "../widgets.ts"

type State = AlertStatus["state"]

export const ALERT_LABEL: Record<State, string> = {
  ok: "正常",
  pending: "觀察中",
  firing: "觸發中",
  resolved: "已恢復",
}

const ORDER: Record<State, number> = { firing: 0, pending: 1, resolved: 2, ok: 3 }

export class AlertsPanel {
  readonly panel = panel("alerts", "告警")
  private readonly tbody = h("tbody")
  private readonly summary = h("span", { class: "muted", "data-testid": "alerts-summary" })
  /** Called with the number of firing rules after each load (the page title shows it). */
  onFiring: (n: number) => void = () => {}

  constructor() {
    this.panel.tools.append(this.summary)
    const head = ["規則", "狀態", "自從", "觀測值 / 門檻", "訊息"]
    this.panel.body.append(
      h(
        "div",
        { class: "table-wrap" },
        h(
          "table",
          { class: "alerts" },
          h("thead", null, h("tr", null, ...head.map((t) => h("th", null, t)))),
          this.tbody,
        ),
      ),
    )
  }

  async refresh(): Promise<void> {
    let d: AlertsResponse
    try {
      d = await api.alerts()
      this.panel.problem(null)
    } catch (e) {
      this.panel.problem(e)
      throw e
    }
    const now = nowSec()
    const rows = [...d.alerts].sort(
      (a, b) => (ORDER[a.state] ?? 9) - (ORDER[b.state] ?? 9) || a.name.localeCompare(b.name),
    )
    fill(
      this.tbody,
      ...rows.map((a) =>
        h(
          "tr",
          { "data-testid": `alert-${a.name}`, "data-state": a.state, class: `alert-${a.state}` },
          h(
            "td",
            null,
            h("div", { class: "rule" }, visibleText(a.name, 120)),
            h("div", { class: "muted" }, visibleText(`${a.kind}・${a.description}`, 300)),
          ),
          h("td", null, h("span", { class: `pill pill-${a.state}` }, ALERT_LABEL[a.state] ?? a.state)),
          h(
            "td",
            { class: "nowrap" },
            shortTime(a.since, now),
            h("div", { class: "muted" }, `${duration(now - a.since)}`),
          ),
          h("td", { class: "nowrap num" }, `${num(a.value)} / ${num(a.threshold)}`),
          h("td", { class: "detail" }, visibleText(a.message, 500)),
        ),
      ),
    )
    const firing = d.alerts.filter((a) => a.state === "firing").length
    this.summary.textContent =
      `${firing > 0 ? `${firing} 條觸發中・` : ""}共 ${d.alerts.length} 條規則・` +
      (d.evaluatedAt === null ? "尚未評估" : `評估於 ${shortTime(d.evaluatedAt, now)}`)
    this.summary.dataset.firing = String(firing)
    this.onFiring(firing)
  }
}
