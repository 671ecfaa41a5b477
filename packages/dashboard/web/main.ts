/**
 * The operators' console: logs in from the URL fragment, lays out the panels, loads them for
 * the chosen range and keeps them current from the live stream (/api/stream).
 */
import type { HealthResponse } from "../src/api.ts"
import { LoginForm, takeFragmentToken } from "./auth.ts"
import { api, login, Unauthorized, whenUnauthorized } from "./client.ts"
import { h, setText } from "./dom.ts"
import { Live, type LiveState } from "./live.ts"
import { AlertsPanel } from "./panels/alerts.ts"
import { BusinessPanel } from "./panels/business.ts"
import { DeadLettersPanel } from "./panels/deadletters.ts"
import { HealthPanel } from "./panels/health.ts"
import { IntegrityPanel } from "./panels/integrity.ts"
import { throttled } from "./throttle.ts"
import { toolbar } from "./toolbar.ts"
import { currentRange, isLive, observeServerNow } from "./view.ts"

const TITLE = "營運主控台・即時營運分析"
const CONN_LABEL: Record<LiveState, string> = {
  connecting: "連線中…",
  open: "已連線",
  reconnecting: "重新連線中…",
}

const business = new BusinessPanel(() => refreshData())
const health = new HealthPanel()
const integrity = new IntegrityPanel()
const deadLetters = new DeadLettersPanel()
const alerts = new AlertsPanel()

// At most one refetch a second per group, however many events ask for it.
const refreshData = throttled(async () => {
  const r = currentRange()
  health.setRange(r)
  await Promise.allSettled([business.refresh(r), integrity.refresh(r)])
}, 1_000)
const refreshHistory = throttled(() => health.refreshHistory(currentRange()), 1_000)
const refreshDimensions = throttled(() => business.refreshDimensions(currentRange()), 1_000)
// New data can bring a source or type the filters do not list yet: look again every few seconds
// while data comes in, not only when the minute changes.
const refreshDimensionsSoon = throttled(() => business.refreshDimensions(currentRange()), 5_000)
const refreshAlerts = throttled(() => alerts.refresh(), 1_000)
const refreshDeadLetters = throttled(() => deadLetters.refresh(), 1_000)

function refreshAll(): void {
  refreshData()
  refreshHistory()
  refreshDimensions()
  refreshAlerts()
  refreshDeadLetters()
}

const conn = h(
  "span",
  { class: "conn", "data-testid": "connection-state", "data-state": "connecting" },
  CONN_LABEL.connecting,
)
const firingLink = h("a", { class: "firing", href: "#alerts", hidden: "", "data-testid": "firing-count" })
alerts.onFiring = (n) => {
  firingLink.hidden = n === 0
  setText(firingLink, `${n} 條告警觸發中`)
  document.title = n > 0 ? `(${n}) ${TITLE}` : TITLE
}

const nav = h(
  "nav",
  null,
  ...(
    [
      ["#business", "業務指標"],
      ["#health", "管線健康"],
      ["#integrity", "資料完整性"],
      ["#alerts", "告警"],
      ["#dead-letters", "死信"],
    ] as const
  ).map(([href, label]) => h("a", { href }, label)),
)

document.body.append(
  h("header", { class: "top" }, h("h1", null, "營運主控台"), nav, firingLink, conn),
  toolbar(() => {
    refreshAll()
  }),
  h(
    "main",
    null,
    business.panel.el,
    health.panel.el,
    integrity.panel.el,
    alerts.panel.el,
    deadLetters.panel.el,
  ),
)

const loginForm = new LoginForm(() => {
  live?.restart()
  refreshAll()
})
whenUnauthorized(() => loginForm.show())

let lastVersion: number | null = null
let lastMinute = 0

function onHealth(s: HealthResponse): void {
  observeServerNow(s.now)
  health.push(s)
  integrity.showFreshness(s)
  // dataVersion moves on every commit: a second path to fresh panels besides the `data` event.
  if (lastVersion !== null && s.dataVersion !== lastVersion) refreshData()
  lastVersion = s.dataVersion
  // A new minute: the window slides and the last complete minute changes.
  const minute = Math.floor(s.now / 60)
  if (minute !== lastMinute) {
    if (lastMinute !== 0 && isLive(currentRange())) {
      refreshData()
      refreshHistory()
      refreshDimensions()
    }
    lastMinute = minute
  }
}

let live: Live | null = null

function startLive(): Live {
  return new Live("/api/stream", {
    state(s) {
      conn.dataset.state = s
      setText(conn, CONN_LABEL[s])
    },
    health: onHealth,
    data: () => {
      refreshData()
      refreshDimensionsSoon()
    },
    alert: () => refreshAlerts(),
    deadLetter: (d) => deadLetters.prepend(d),
    // Whatever happened while we were away (a processor restart) was missed: load it all.
    reconnected: refreshAll,
    async refused() {
      try {
        await api.health()
        return true
      } catch (e) {
        return !(e instanceof Unauthorized)
      }
    },
  })
}

async function start(): Promise<void> {
  const token = takeFragmentToken()
  if (token !== null) {
    try {
      if (!(await login(token))) loginForm.show("網址中的權杖不正確，請重新輸入。")
    } catch (e) {
      loginForm.show(`無法登入：${e instanceof Error ? e.message : String(e)}`)
    }
  }
  // The server's clock first, so "the last complete minute" is the server's, not this machine's.
  await api.health().then(onHealth, () => {})
  live = startLive()
  refreshAll()
  // A safety net for anything the stream missed; cheap next to the per-second health events.
  setInterval(refreshAll, 60_000)
}

void start()
