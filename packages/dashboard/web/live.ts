/**
 * The live stream: one EventSource on /api/stream (cookie auth). The browser reconnects by
 * itself after a dropped connection; when the server answered with an error instead (the
 * processor restarting behind a proxy, a 401) the EventSource closes for good, so we open a new
 * one with a back-off. A stream silent for 5 s (health comes every second) is treated as dead.
 */
import type { AlertStatus, DeadLetterEntry, HealthResponse } from "../src/api.ts"

export type LiveState = "connecting" | "open" | "reconnecting"

export interface LiveHandlers {
  state(s: LiveState): void
  health(h: HealthResponse): void
  data(dataVersion: number): void
  alert(a: AlertStatus): void
  deadLetter(d: DeadLetterEntry): void
  /** Opened again after a loss: whatever happened meanwhile was missed. */
  reconnected(): void
  /** The server refused the stream; resolves false when the session is gone (stop retrying). */
  refused(): Promise<boolean>
}

const SILENCE_MS = 5_000

export class Live {
  private es: EventSource | null = null
  private lost = false
  private everOpen = false
  private lastMessage = 0
  private retryMs = 1_000
  private retryTimer: ReturnType<typeof setTimeout> | undefined
  private readonly watchdog: ReturnType<typeof setInterval>
  private readonly url: string
  private readonly on: LiveHandlers

  constructor(url: string, on: LiveHandlers) {
    this.url = url
    this.on = on
    this.watchdog = setInterval(() => this.checkSilence(), 1_000)
    this.open()
  }

  /** Drops the current connection and opens a new one now (e.g. after logging in again). */
  restart(): void {
    this.close()
    this.open()
  }

  private open(): void {
    clearTimeout(this.retryTimer)
    this.retryTimer = undefined
    const es = new EventSource(this.url)
    this.es = es
    this.lastMessage = performance.now()
    this.on.state(this.everOpen ? "reconnecting" : "connecting")

    es.onopen = () => {
      this.lastMessage = performance.now()
      this.retryMs = 1_000
      this.on.state("open")
      if (this.everOpen && this.lost) this.on.reconnected()
      this.everOpen = true
      this.lost = false
    }
    es.onerror = () => {
      this.lost = true
      this.on.state("reconnecting")
      if (es.readyState === EventSource.CLOSED) this.retryLater()
    }
    this.listen(es, "health", (v) => this.on.health(v as HealthResponse))
    this.listen(es, "data", (v) => this.on.data((v as { dataVersion: number }).dataVersion))
    this.listen(es, "alert", (v) => this.on.alert(v as AlertStatus))
    this.listen(es, "dead-letter", (v) => this.on.deadLetter(v as DeadLetterEntry))
  }

  private listen(es: EventSource, type: string, handle: (value: unknown) => void): void {
    es.addEventListener(type, (ev) => {
      this.lastMessage = performance.now()
      if (!(ev instanceof MessageEvent) || typeof ev.data !== "string") return
      let value: unknown
      try {
        value = JSON.parse(ev.data)
      } catch {
        return // a malformed event must not take the page down
      }
      if (value !== null && typeof value === "object") handle(value)
    })
  }

  private close(): void {
    this.es?.close()
    this.es = null
  }

  private retryLater(): void {
    this.close()
    if (this.retryTimer !== undefined) return
    const wait = this.retryMs
    this.retryMs = Math.min(this.retryMs * 2, 10_000)
    this.retryTimer = setTimeout(async () => {
      this.retryTimer = undefined
      const keepTrying = await this.on.refused().catch(() => true)
      if (keepTrying) this.open()
    }, wait)
  }

  private checkSilence(): void {
    if (this.es?.readyState !== EventSource.OPEN) return
    if (performance.now() - this.lastMessage < SILENCE_MS) return
    this.lost = true
    this.on.state("reconnecting")
    this.retryLater()
  }

  stop(): void {
    clearInterval(this.watchdog)
    clearTimeout(this.retryTimer)
    this.close()
  }
}
