/**
 * 管線健康: the processor's state and rates from the `health` events (a rolling buffer of the
 * last 15 minutes, one snapshot a second) joined to GET /api/health/history for the older part
 * of the range: throughput, dead letters by reason, lag, end-to-end latency, batches, retries.
 */
import type { HealthHistoryResponse, HealthResponse } from "../../src/api.ts"
import { Chart, type Values } from "../charts.ts"
import { api, type Range } from "../client.ts"
import { fill, h, setText } from "../dom.ts"
import { clock, dec, duration, int, ms, shortTime } from "../format.ts"
import { isLive, nowSec } from "../view.ts"
import { figure, panel } from "../widgets.ts"

type State = HealthResponse["state"]

export const STATE_LABEL: Record<State, string> = {
  starting: "啟動中",
  running: "運行中",
  backing_off: "退避重試中",
  stalled: "停滯",
  failed: "已停止",
}

const BUFFER_SECONDS = 15 * 60
const WARM = ["#f87171", "#fb923c", "#facc15", "#f472b6", "#e879f9", "#fda4af", "#fdba74", "#a78bfa"]
const COOL = ["#5b9cf5", "#4cc38a", "#56b6c2", "#c084fc", "#e5c07b", "#a3e635", "#f2a33a", "#94a3b8"]

const pick = (list: readonly string[], i: number): string => list[i % list.length] ?? "#888888"

export class HealthPanel {
  readonly panel = panel("health", "管線健康", "每秒的即時快照（最近 15 分鐘）接上處理器的歷史統計")
  private buffer: HealthResponse[] = []
  private history: HealthHistoryResponse | null = null
  private range: Range = { from: 0, to: 0 }
  private readonly badge = h("span", { class: "state", "data-testid": "processor-state" }, "—")
  private readonly since = h("span", { class: "muted", "data-testid": "processor-since" })
  private readonly reason = h("p", { class: "state-reason", "data-testid": "processor-reason" })
  private readonly lastCommit = h("span", { class: "muted", "data-testid": "last-commit" })
  private readonly consumed = figure("消費（筆/秒）", "consumed-per-second")
  private readonly written = figure("寫入（筆/秒）", "written-per-second")
  private readonly dead = figure("死信（筆/秒）", "dead-letters-per-second")
  private readonly p99 = figure("端到端延遲 p99", "latency-p99")
  private readonly batch = figure("批次大小（平均／最大）", "batch-rows")
  private readonly retryTotal = figure("Sink 重試（累計）", "sink-retries-total")
  private readonly lagBody = h("tbody")
  private readonly throughput = new Chart({
    title: "吞吐量",
    unit: "筆/秒",
    height: 170,
    testid: "chart-throughput",
  })
  private readonly deadLetters = new Chart({
    title: "死信",
    unit: "筆/秒，依原因堆疊",
    height: 170,
    testid: "chart-dead-letters",
  })
  private readonly latency = new Chart({
    title: "端到端延遲",
    unit: "ms（Kafka 時間戳 → ClickHouse 確認）",
    height: 170,
    testid: "chart-latency",
  })
  private readonly lag = new Chart({
    title: "消費落後",
    unit: "筆（各 partition 為即時值）",
    height: 170,
    testid: "chart-lag",
  })
  private readonly batches = new Chart({
    title: "批次大小",
    unit: "筆/批",
    height: 170,
    testid: "chart-batches",
  })
  private readonly retries = new Chart({
    title: "Sink 重試",
    unit: "次/秒",
    height: 170,
    testid: "chart-retries",
  })

  constructor() {
    const lagTable = h(
      "table",
      { class: "lag", "data-testid": "lag-table" },
      h(
        "thead",
        null,
        h("tr", null, h("th", null, "Partition"), h("th", null, "落後筆數"), h("th", null, "等待（秒）")),
      ),
      this.lagBody,
    )
    this.panel.body.append(
      h(
        "div",
        { class: "health-top" },
        h("div", { class: "status" }, h("div", null, this.badge, this.since), this.reason, this.lastCommit),
        h(
          "div",
          { class: "figs" },
          ...[this.consumed, this.written, this.dead, this.p99, this.batch, this.retryTotal].map((f) => f.el),
        ),
        h("div", { class: "lag-wrap" }, lagTable),
      ),
      h(
        "div",
        { class: "grid3" },
        ...[this.throughput, this.deadLetters, this.latency, this.lag, this.batches, this.retries].map(
          (c) => c.el,
        ),
      ),
    )
  }

  async refreshHistory(r: Range): Promise<void> {
    this.range = r
    try {
      this.history = await api.healthHistory(r)
      this.panel.problem(null)
    } catch (e) {
      this.panel.problem(e)
      throw e
    } finally {
      this.draw()
    }
  }

  /** Keeps the range for the live redraws without refetching history. */
  setRange(r: Range): void {
    this.range = r
  }

  push(s: HealthResponse): void {
    const last = this.buffer[this.buffer.length - 1]
    if (last && s.now <= last.now) this.buffer = this.buffer.filter((b) => b.now < s.now)
    this.buffer.push(s)
    const cut = s.now - BUFFER_SECONDS
    while ((this.buffer[0]?.now ?? cut) < cut) this.buffer.shift()
    this.showStatus(s)
    if (isLive(this.range)) this.draw()
  }

  private showStatus(s: HealthResponse): void {
    setText(this.badge, STATE_LABEL[s.state] ?? s.state)
    this.badge.dataset.state = s.state
    setText(this.since, `自 ${shortTime(s.since, s.now)} 起（${duration(s.now - s.since)}）`)
    setText(this.reason, s.reason ?? "")
    this.reason.hidden = !s.reason
    setText(
      this.lastCommit,
      s.lastCommit === undefined
        ? "尚未提交"
        : `最後提交 ${clock(s.lastCommit)}（${duration(s.now - s.lastCommit)}前）・快照 ${clock(s.now)}`,
    )
    const deadTotal = Object.values(s.deadLettersPerSecond).reduce((a, b) => a + b, 0)
    this.consumed.set(dec(s.consumedPerSecond), "最近 10 秒")
    this.written.set(dec(s.writtenPerSecond), "最近 10 秒")
    this.dead.set(
      dec(deadTotal),
      Object.entries(s.deadLettersPerSecond)
        .filter(([, v]) => v > 0)
        .map(([k, v]) => `${k} ${dec(v)}`)
        .join("、") || "最近 10 秒",
    )
    this.p99.set(ms(s.latencyMs.p99), `p50 ${ms(s.latencyMs.p50)}・p95 ${ms(s.latencyMs.p95)}`)
    this.batch.set(`${dec(s.batchRows.avg)} / ${int(s.batchRows.max)}`, "最近一分鐘")
    this.retryTotal.set(int(s.sinkRetriesTotal), "自啟動以來")
    fill(
      this.lagBody,
      ...[...s.lag]
        .sort((a, b) => a.partition - b.partition)
        .map((p) =>
          h(
            "tr",
            {
              "data-testid": `lag-${p.partition}`,
              "data-records": String(p.records),
              "data-seconds": String(p.seconds),
            },
            h("td", null, String(p.partition)),
            h("td", null, int(p.records)),
            h("td", null, dec(p.seconds)),
          ),
        ),
    )
  }

  /** History points before the first live snapshot, then the snapshots, within the range. */
  private draw(): void {
    const r = this.range
    const live = this.buffer.filter((b) => b.now >= r.from && b.now <= r.to + 60)
    const firstLive = live[0]?.now ?? Number.POSITIVE_INFINITY
    const hist = this.history
    const hIdx: number[] = []
    if (hist) for (const [i, t] of hist.time.entries()) if (t < firstLive) hIdx.push(i)
    const x = [...hIdx.map((i) => hist?.time[i] ?? 0), ...live.map((b) => b.now)]
    const step = hist && hist.time.length > 1 ? (hist.time[1] ?? 60) - (hist.time[0] ?? 0) : 60
    const join = (past: Values | undefined, now: (b: HealthResponse, k: number) => number | null): Values => [
      ...hIdx.map((i) => past?.[i] ?? null),
      ...live.map(now),
    ]
    const xRange: [number, number] = [r.from, Math.min(r.to, Math.max(r.from + 60, nowSec()))]

    const reasons = [
      ...new Set([
        ...Object.keys(hist?.deadLettersPerSecond ?? {}),
        ...live.flatMap((b) => Object.keys(b.deadLettersPerSecond)),
      ]),
    ].sort()
    this.throughput.update(
      x,
      [
        { label: "消費", color: "#5b9cf5" },
        { label: "寫入", color: "#4cc38a", dash: [5, 3] },
      ],
      [
        join(hist?.consumedPerSecond, (b) => b.consumedPerSecond),
        join(hist?.writtenPerSecond, (b) => b.writtenPerSecond),
      ],
      xRange,
    )
    this.deadLetters.update(
      x,
      reasons.map((re, i) => ({ label: re, color: pick(WARM, i), stack: true })),
      reasons.map((re) => join(hist?.deadLettersPerSecond[re], (b) => b.deadLettersPerSecond[re] ?? 0)),
      xRange,
    )

    const msFmt = (v: number | null): string => ms(v)
    this.latency.update(
      x,
      [
        { label: "p50", color: "#4cc38a", fmt: msFmt },
        { label: "p95", color: "#facc15", fmt: msFmt },
        { label: "p99", color: "#f87171", fmt: msFmt },
      ],
      [
        join(hist?.latencyP50Ms, (b) => b.latencyMs.p50),
        join(hist?.latencyP95Ms, (b) => b.latencyMs.p95),
        join(hist?.latencyP99Ms, (b) => b.latencyMs.p99),
      ],
      xRange,
    )

    const parts = [...new Set(live.flatMap((b) => b.lag.map((p) => p.partition)))].sort((a, b) => a - b)
    const lagMax = (b: HealthResponse): number => b.lag.reduce((m, p) => Math.max(m, p.records), 0)
    this.lag.update(
      x,
      [
        { label: "最大", color: "#e8ecf1" },
        ...parts.map((p, i) => ({ label: `P${p}`, color: pick(COOL, i) })),
      ],
      [
        join(hist?.lagRecordsMax, lagMax),
        ...parts.map((p) => join(undefined, (b) => b.lag.find((l) => l.partition === p)?.records ?? null)),
      ],
      xRange,
    )

    // Retries as a rate, so the per-step history and the per-second snapshots share a unit.
    const retryRate = (b: HealthResponse, k: number): number | null => {
      const prev = live[k - 1]
      return prev && b.now > prev.now
        ? Math.max(0, b.sinkRetriesTotal - prev.sinkRetriesTotal) / (b.now - prev.now)
        : null
    }
    this.batches.update(
      x,
      [
        { label: "平均", color: "#5b9cf5" },
        { label: "最大", color: "#c084fc" },
      ],
      [join(hist?.batchRowsAvg, (b) => b.batchRows.avg), join(hist?.batchRowsMax, (b) => b.batchRows.max)],
      xRange,
    )
    this.retries.update(
      x,
      [{ label: "重試", color: "#f87171", stack: true }],
      [
        join(
          hist?.sinkRetries.map((v) => (v === null ? null : v / step)),
          retryRate,
        ),
      ],
      xRange,
    )
  }
}
