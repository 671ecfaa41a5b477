/**
 * What the console's page (packages/dashboard/web) requests, as plain data: the same paths and
 * parameters, built the way its client.ts builds them, for the default view (the last hour, no
 * filters, no comparison). The simulated dashboards (dashboards.ts) send these.
 */

export interface PlannedRequest {
  /** The name the load report uses. */
  readonly route: string
  /** Path and query string. */
  readonly path: string
}

type Params = Readonly<Record<string, string | number | undefined>>

/** As web/client.ts: empty and absent parameters are left out, the rest in the given order. */
export const pageUrl = (path: string, params: Params = {}): string => {
  const q = new URLSearchParams()
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== "") q.set(k, String(v))
  const s = q.toString()
  return s ? `${path}?${s}` : path
}

/** As web/view.ts currentRange() for the "1h" preset: an hour ending with the current minute. */
export const pageRange = (nowSec: number) => {
  const to = Math.ceil(nowSec / 60) * 60
  return { from: to - 3_600, to }
}

/** web/panels/deadletters.ts LIMIT. */
export const DEAD_LETTER_LIMIT = 50

/**
 * On a `data` event (at most once a second): what the page's refreshData fetches (the business
 * panel's range, whose last point at a minute's step is also the last complete minute it shows,
 * and the integrity panel), plus the dead letters.
 */
export const dataRequests = (nowSec: number): ReadonlyArray<PlannedRequest> => {
  const r = pageRange(nowSec)
  const none = { source: "", type: "", compare: undefined }
  return [
    { route: "metrics", path: pageUrl("/api/metrics", { from: r.from, to: r.to, step: undefined, ...none }) },
    { route: "integrity", path: pageUrl("/api/integrity", r) },
    { route: "dead-letters", path: pageUrl("/api/dead-letters", { limit: DEAD_LETTER_LIMIT }) },
  ]
}

/** Every 10 s: the health panel's history and the alerts. */
export const slowRequests = (nowSec: number): ReadonlyArray<PlannedRequest> => [
  { route: "health/history", path: pageUrl("/api/health/history", pageRange(nowSec)) },
  { route: "alerts", path: pageUrl("/api/alerts") },
]

/** Every 5 s (the page: at most every 5 s while data comes in): the filters' options. */
export const dimensionRequests = (nowSec: number): ReadonlyArray<PlannedRequest> => [
  { route: "dimensions", path: pageUrl("/api/dimensions", pageRange(nowSec)) },
]

/** Opening the page: the server's clock first, then every panel. */
export const openingRequests = (nowSec: number): ReadonlyArray<PlannedRequest> => [
  { route: "health", path: "/api/health" },
  ...dataRequests(nowSec),
  ...slowRequests(nowSec),
  ...dimensionRequests(nowSec),
]

/** The order routes are reported in. */
export const ROUTES = [
  "metrics",
  "integrity",
  "dead-letters",
  "health/history",
  "alerts",
  "dimensions",
  "health",
] as const
