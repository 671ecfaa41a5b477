/**
 * The JSON API (types only from ../src/api.ts: the bundle carries no effect code). Every call
 * sends the session cookie; a 401 hands over to the login form and rejects with Unauthorized.
 */
import type {
  AlertsResponse,
  DeadLettersResponse,
  DimensionsResponse,
  HealthHistoryResponse,
  HealthResponse,
  IntegrityResponse,
  MetricsResponse,
} from "../src/api.ts"

export class Unauthorized extends Error {
  constructor() {
    super("需要登入")
  }
}

let onUnauthorized = (): void => {}
export function whenUnauthorized(fn: () => void): void {
  onUnauthorized = fn
}

export interface Range {
  from: number
  to: number
}

export type Compare = "none" | "1d" | "1w"

type Params = Record<string, string | number | undefined>

function url(path: string, params: Params = {}): string {
  const q = new URLSearchParams()
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== "") q.set(k, String(v))
  const s = q.toString()
  return s ? `${path}?${s}` : path
}

async function get<T>(path: string, params?: Params): Promise<T> {
  const res = await fetch(url(path, params), {
    credentials: "same-origin",
    headers: { accept: "application/json" },
    cache: "no-store",
  })
  if (res.status === 401) {
    onUnauthorized()
    throw new Unauthorized()
  }
  if (!res.ok) throw new Error(`${path}：HTTP ${res.status}`)
  // The server encodes with the same schemas these types come from.
  const body: unknown = await res.json()
  return body as T
}

/** POST /api/login; true when the token was accepted (the cookie is set), false when refused. */
export async function login(token: string): Promise<boolean> {
  const res = await fetch("/api/login", {
    method: "POST",
    credentials: "same-origin",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ token }),
  })
  if (res.ok) return true
  if (res.status === 401 || res.status === 403 || res.status === 400) return false
  throw new Error(`/api/login：HTTP ${res.status}`)
}

export const api = {
  metrics: (r: Range, filters: { source: string; type: string; compare: Compare }, step?: number) =>
    get<MetricsResponse>("/api/metrics", {
      from: r.from,
      to: r.to,
      step,
      source: filters.source,
      type: filters.type,
      compare: filters.compare === "none" ? undefined : filters.compare,
    }),
  dimensions: (r: Range) => get<DimensionsResponse>("/api/dimensions", { from: r.from, to: r.to }),
  health: () => get<HealthResponse>("/api/health"),
  healthHistory: (r: Range) => get<HealthHistoryResponse>("/api/health/history", { from: r.from, to: r.to }),
  integrity: (r: Range) => get<IntegrityResponse>("/api/integrity", { from: r.from, to: r.to }),
  deadLetters: (limit: number) => get<DeadLettersResponse>("/api/dead-letters", { limit }),
  alerts: () => get<AlertsResponse>("/api/alerts"),
}
