/**
 * Login: the page is opened as /dashboard/#token=...; the token is exchanged for an HttpOnly,
 * SameSite=Strict cookie (POST /api/login) and wiped from the address bar. When the session is
 * missing or expired (a 401), a small form asks for the token and does the same exchange.
 */
import { login } from "./client.ts"
import { h, setText } from "./dom.ts"

/** The token from the URL fragment (#token=...), which is then removed from the address bar. */
export function takeFragmentToken(): string | null {
  const frag = location.hash.replace(/^#/, "")
  if (!frag) return null
  // Parsed by hand: URLSearchParams would turn a "+" of a base64 token into a space.
  const pair = frag.split("&").find((p) => p.startsWith("token="))
  if (pair === undefined) return null // an anchor such as #alerts stays
  // Never leave the token in the address bar, the history or a screenshot.
  history.replaceState(history.state, "", location.pathname + location.search)
  try {
    return decodeURIComponent(pair.slice("token=".length))
  } catch {
    return null
  }
}

export class LoginForm {
  private readonly dialog: HTMLDialogElement
  private readonly input: HTMLInputElement
  private readonly message: HTMLElement
  private readonly button: HTMLButtonElement
  private readonly onLoggedIn: () => void

  constructor(onLoggedIn: () => void) {
    this.onLoggedIn = onLoggedIn
    this.input = h("input", {
      type: "password",
      name: "token",
      required: "",
      autocomplete: "current-password",
      spellcheck: "false",
      "data-testid": "login-token",
    })
    this.message = h("p", { class: "login-message", role: "alert" })
    this.button = h("button", { type: "submit" }, "登入")
    const form = h(
      "form",
      { method: "dialog", "data-testid": "login-form" },
      h("h2", null, "需要登入"),
      h(
        "p",
        null,
        "請輸入處理器端點的存取權杖（token）。登入後以 HttpOnly cookie 保存，權杖不會留在網址中。",
      ),
      h("label", null, "存取權杖", this.input),
      this.message,
      h("div", { class: "login-actions" }, this.button),
    )
    form.addEventListener("submit", (ev) => {
      ev.preventDefault()
      void this.submit()
    })
    this.dialog = h("dialog", { class: "login" }, form)
    // Without a session nothing on the page works: Escape must not dismiss the form.
    this.dialog.addEventListener("cancel", (ev) => ev.preventDefault())
    document.body.append(this.dialog)
  }

  get open(): boolean {
    return this.dialog.open
  }

  /** Opens the form; a later bare show() (another 401) keeps the message already there. */
  show(message?: string): void {
    if (message !== undefined || !this.dialog.open) setText(this.message, message ?? "")
    if (!this.dialog.open) this.dialog.showModal()
    this.input.focus()
  }

  private async submit(): Promise<void> {
    const token = this.input.value.trim()
    if (!token) return
    this.button.disabled = true
    setText(this.message, "登入中…")
    try {
      if (await login(token)) {
        this.input.value = ""
        this.dialog.close()
        this.onLoggedIn()
      } else {
        setText(this.message, "權杖不正確，請再試一次。")
        this.input.select()
      }
    } catch (e) {
      setText(this.message, `無法登入：${e instanceof Error ? e.message : String(e)}`)
    } finally {
      this.button.disabled = false
    }
  }
}
