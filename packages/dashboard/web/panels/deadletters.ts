/**
 * 死信: the latest dead letters and the counts by reason. Reason, detail and payload come from
 * whoever wrote to the topic: they reach the DOM only as text (textContent / text nodes), with
 * control and bidi characters drawn as visible markers.
 */
import type { DeadLetterEntry, DeadLettersResponse } from "../../src/api.ts"
import { api } from "../client.ts"
import { fill, h, visibleText } from "../dom.ts"
import { bytes, dateTime, int } from "../format.ts"
import { panel } from "../widgets.ts"

export const LIMIT = 50
const PREVIEW_CHARS = 160

export const REASON_LABEL: Record<string, string> = {
  empty: "空記錄",
  message_too_large: "訊息過大",
  invalid_encoding: "編碼錯誤",
  undecodable: "不是 JSON",
  too_deep: "巢狀過深",
  control_characters: "含控制字元",
  properties_too_large: "properties 過大",
  invalid: "違反契約",
  event_time_out_of_range: "事件時間超出範圍",
  event_time_in_future: "事件時間在未來",
  rejected_by_clickhouse: "ClickHouse 拒收",
}

/** The Chinese label of a known reason; own keys only, so "__proto__" or "toString" stay plain text. */
function labelOf(reason: string): string | undefined {
  return Object.hasOwn(REASON_LABEL, reason) ? REASON_LABEL[reason] : undefined
}

function reasonCell(reason: string): HTMLElement {
  const label = labelOf(reason)
  return h(
    "td",
    { class: "reason" },
    h("code", null, visibleText(reason, 64)),
    label ? h("div", { class: "muted" }, label) : null,
  )
}

function previewCell(preview: string): HTMLElement {
  if (preview === "") return h("td", { class: "payload muted" }, "（空）")
  if (preview.length <= PREVIEW_CHARS)
    return h("td", { class: "payload" }, h("code", null, visibleText(preview)))
  // Long payloads fold away; the full text is still text, just behind a <details>.
  return h(
    "td",
    { class: "payload" },
    h(
      "details",
      null,
      h(
        "summary",
        null,
        h("code", null, visibleText(preview, PREVIEW_CHARS)),
        h("span", { class: "muted" }, `…（共 ${int(preview.length)} 字元）`),
      ),
      h("pre", null, visibleText(preview)),
    ),
  )
}

function row(d: DeadLetterEntry): HTMLTableRowElement {
  return h(
    "tr",
    { "data-testid": "dead-letter-row", "data-reason": d.reason, "data-offset": d.offset },
    h("td", { class: "nowrap" }, dateTime(d.at)),
    reasonCell(d.reason),
    h("td", { class: "detail" }, visibleText(d.detail, 400)),
    h("td", { class: "nowrap mono" }, visibleText(`${d.topic} / ${d.partition} / ${d.offset}`, 200)),
    h("td", { class: "nowrap num" }, bytes(d.size)),
    previewCell(d.preview),
  )
}

export class DeadLettersPanel {
  readonly panel = panel(
    "dead-letters",
    "死信",
    `最新 ${LIMIT} 筆；內容為原始資料的跳脫文字，控制與隱形字元以黃色 \\uXXXX 標出`,
  )
  private counts = new Map<string, number>()
  private readonly chips = h("div", { class: "chips", "data-testid": "dead-letter-counts" })
  private readonly tbody = h("tbody", { "data-testid": "dead-letter-rows" })
  private readonly empty = h("p", { class: "muted" }, "目前沒有死信。")

  constructor() {
    const head = ["時間", "原因", "說明", "來源 topic / partition / offset", "大小", "內容預覽"]
    this.panel.body.append(
      this.chips,
      h(
        "div",
        { class: "table-wrap" },
        h(
          "table",
          { class: "dlq" },
          h("thead", null, h("tr", null, ...head.map((t) => h("th", null, t)))),
          this.tbody,
        ),
      ),
      this.empty,
    )
  }

  async refresh(): Promise<void> {
    let d: DeadLettersResponse
    try {
      d = await api.deadLetters(LIMIT)
      this.panel.problem(null)
    } catch (e) {
      this.panel.problem(e)
      throw e
    }
    this.counts = new Map(Object.entries(d.counts))
    this.showCounts()
    fill(this.tbody, ...d.latest.map(row))
    this.empty.hidden = d.latest.length > 0
  }

  /** A dead letter from the live stream: on top of the table, and into its reason's count. */
  prepend(d: DeadLetterEntry): void {
    this.tbody.prepend(row(d))
    while (this.tbody.rows.length > LIMIT) this.tbody.lastElementChild?.remove()
    this.counts.set(d.reason, (this.counts.get(d.reason) ?? 0) + 1)
    this.showCounts()
    this.empty.hidden = true
  }

  private showCounts(): void {
    const entries = [...this.counts].sort((a, b) => b[1] - a[1])
    const total = entries.reduce((t, [, n]) => t + n, 0)
    fill(
      this.chips,
      h(
        "span",
        { class: "chip total" },
        "自處理器啟動：",
        h("b", { "data-testid": "dead-letter-total" }, int(total)),
      ),
      ...entries.map(([reason, n]) =>
        h(
          "span",
          { class: "chip", title: labelOf(reason) ?? reason },
          h("code", null, visibleText(reason, 64)),
          h("b", { "data-testid": `dead-letter-count-${reason}` }, int(n)),
        ),
      ),
    )
  }
}
