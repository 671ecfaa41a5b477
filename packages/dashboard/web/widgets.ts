/** Building blocks shared by the panels: a titled section with an error line, big figures. */
import { Unauthorized } from "./client.ts"
import { h, setText } from "./dom.ts"

export interface Panel {
  el: HTMLElement
  /** Right side of the title bar (controls, summary). */
  tools: HTMLElement
  body: HTMLElement
  /** Shows why the last load failed, or clears it (null). */
  problem(e: unknown): void
}

export function panel(id: string, title: string, hint?: string): Panel {
  const tools = h("div", { class: "panel-tools" })
  const err = h("p", { class: "panel-error", role: "alert", hidden: "" })
  const body = h("div", { class: "panel-body" })
  const el = h(
    "section",
    { class: "panel", id, "aria-labelledby": `${id}-title` },
    h("header", null, h("h2", { id: `${id}-title` }, title, hint ? h("small", null, hint) : null), tools),
    err,
    body,
  )
  return {
    el,
    tools,
    body,
    problem(e) {
      // A missing session is the login form's business, not an error in every panel.
      if (e === null || e instanceof Unauthorized) {
        err.hidden = true
        return
      }
      err.hidden = false
      setText(err, `載入失敗：${e instanceof Error ? e.message : String(e)}（稍後自動重試）`)
    },
  }
}

export interface Figure {
  el: HTMLElement
  value: HTMLElement
  sub: HTMLElement
  set(value: string, sub?: string): void
}

/** A big number with a label; `testid` goes on the number itself so tests read just it. */
export function figure(label: string, testid?: string): Figure {
  const value = h("div", { class: "fig-value", ...(testid ? { "data-testid": testid } : {}) }, "—")
  const sub = h("div", { class: "fig-sub" })
  const el = h("div", { class: "fig" }, h("div", { class: "fig-label" }, label), value, sub)
  return {
    el,
    value,
    sub,
    set(v, s) {
      setText(value, v)
      if (s !== undefined) setText(sub, s)
    },
  }
}

/** Sum of a series, null counted as zero. */
export function sum(values: ReadonlyArray<number | null>): number {
  let t = 0
  for (const v of values) t += v ?? 0
  return t
}

/** Largest value of a series, or null when it has none. */
export function max(values: ReadonlyArray<number | null>): number | null {
  let m: number | null = null
  for (const v of values) if (v !== null && (m === null || v > m)) m = v
  return m
}
