/** The time range for every panel: presets ending now, or a custom from/to in local time. */
import { h } from "./dom.ts"
import { fromLocalInput, timeZoneLabel, toLocalInput } from "./format.ts"
import { currentRange, PRESETS, type Preset, view } from "./view.ts"

export function toolbar(onChange: () => void): HTMLElement {
  const buttons = new Map<Preset, HTMLButtonElement>()
  const from = h("input", { type: "datetime-local", "data-testid": "custom-from", "aria-label": "開始時間" })
  const to = h("input", { type: "datetime-local", "data-testid": "custom-to", "aria-label": "結束時間" })
  const apply = h("button", { type: "submit", "data-testid": "custom-apply" }, "套用")
  const problem = h("span", { class: "toolbar-error", role: "alert" })
  const custom = h("form", { class: "custom", hidden: "" }, from, h("span", null, "至"), to, apply, problem)

  const mark = (): void => {
    for (const [p, b] of buttons) b.setAttribute("aria-pressed", String(p === view.preset))
    custom.hidden = view.preset !== "custom"
  }
  const choose = (p: Preset): void => {
    if (p === "custom") {
      // Start from what is on screen, so the inputs are never empty.
      const r = currentRange()
      from.value = toLocalInput(r.from)
      to.value = toLocalInput(r.to)
      // Until "套用", the panels keep showing (and refreshing) the range they had.
      view.from = r.from
      view.to = r.to
      view.preset = "custom"
      mark()
      return
    }
    view.preset = p
    mark()
    onChange()
  }
  custom.addEventListener("submit", (ev) => {
    ev.preventDefault()
    const f = fromLocalInput(from.value)
    const t = fromLocalInput(to.value)
    if (f === null || t === null || t - f < 60) {
      problem.textContent = "請輸入開始與結束時間，且結束至少晚一分鐘。"
      return
    }
    problem.textContent = ""
    view.from = Math.floor(f / 60) * 60
    view.to = Math.ceil(t / 60) * 60
    onChange()
  })

  const group = h("div", { class: "seg", role: "group", "aria-label": "時間範圍" })
  for (const [p, label] of [...PRESETS.map(([p, l]) => [p, l] as const), ["custom", "自訂"] as const]) {
    const b = h("button", { type: "button", "data-testid": `range-${p}` }, label)
    b.addEventListener("click", () => choose(p))
    buttons.set(p, b)
    group.append(b)
  }
  mark()
  return h(
    "div",
    { class: "toolbar" },
    h("span", { class: "toolbar-label" }, "時間範圍"),
    group,
    custom,
    h("span", { class: "tz", "data-testid": "timezone" }, timeZoneLabel()),
  )
}
