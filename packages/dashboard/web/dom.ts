/**
 * DOM helpers. Everything that comes from the server goes into the page as text nodes or
 * attribute values, never through innerHTML: dead-letter payloads and details are hostile input.
 */

export type Child = Node | string | number | null | undefined | false

export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs?: Record<string, string> | null,
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag)
  if (attrs) for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, v)
  append(el, children)
  return el
}

export function append(el: Element, children: readonly Child[]): void {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue
    el.append(typeof c === "number" ? String(c) : c)
  }
}

/** Replaces an element's content; strings become text nodes. */
export function fill(el: Element, ...children: Child[]): void {
  el.replaceChildren()
  append(el, children)
}

export function setText(el: Element, text: string): void {
  if (el.textContent !== text) el.textContent = text
}

/** Code points that would hide, reorder or break the text around them in a table cell. */
function isInvisible(c: number): boolean {
  return (
    c < 0x20 ||
    (c >= 0x7f && c <= 0x9f) ||
    (c >= 0x200b && c <= 0x200f) ||
    (c >= 0x2028 && c <= 0x202e) ||
    (c >= 0x2060 && c <= 0x2069) ||
    c === 0xfeff ||
    (c >= 0xd800 && c <= 0xdfff)
  )
}

// The same \uXXXX escape the server uses in previews; it renders in any font, unlike ␊.
const marker = (c: number): string => `\\u${c.toString(16).toUpperCase().padStart(4, "0")}`

/**
 * Text with control, bidi-override, zero-width and lone-surrogate characters drawn as visible
 * markers (span.ctl), so a payload cannot disguise itself or the row it sits in.
 * At most `max` UTF-16 units are shown; the caller says what was cut.
 */
export function visibleText(s: string, max = Number.POSITIVE_INFINITY): DocumentFragment {
  const frag = document.createDocumentFragment()
  const end = Math.min(s.length, max)
  let start = 0
  for (let i = 0; i < end; i++) {
    const c = s.charCodeAt(i)
    if (!isInvisible(c)) continue
    // A well-formed surrogate pair is an ordinary character (emoji and the like).
    if (c >= 0xd800 && c <= 0xdbff) {
      const next = s.charCodeAt(i + 1)
      if (next >= 0xdc00 && next <= 0xdfff) {
        i++
        continue
      }
    }
    if (i > start) frag.append(s.slice(start, i))
    frag.append(h("span", { class: "ctl" }, marker(c)))
    start = i + 1
  }
  if (end > start) frag.append(s.slice(start, end))
  return frag
}

export function byId<T extends HTMLElement = HTMLElement>(id: string): T {
  const el = document.getElementById(id)
  if (!el) throw new Error(`missing #${id}`)
  return el as T
}
