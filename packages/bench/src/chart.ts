import type { BenchResult } from "./results.ts"

/**
 * The result as one SVG (no browser needed): top, end-to-end latency per rate and system (bar =
 * p99, ticks = p50 and p95, log scale); bottom, throughput of each system against the raw
 * consumers and Kafka's own perf tools on the same broker.
 */

const W = 960
const esc = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;")
const fmt = (v: number) => Math.round(v).toLocaleString("en-US")
const text = (x: number, y: number, s: string, attrs = "") =>
  `<text x="${x.toFixed(1)}" y="${y.toFixed(1)}" ${attrs}>${esc(s)}</text>`
const rect = (x: number, y: number, w: number, h: number, fill: string) =>
  `<rect x="${x.toFixed(1)}" y="${y.toFixed(1)}" width="${Math.max(0, w).toFixed(1)}" height="${Math.max(0, h).toFixed(1)}" fill="${fill}"/>`
const line = (x1: number, y1: number, x2: number, y2: number, stroke: string, width = 1) =>
  `<line x1="${x1.toFixed(1)}" y1="${y1.toFixed(1)}" x2="${x2.toFixed(1)}" y2="${y2.toFixed(1)}" stroke="${stroke}" stroke-width="${width}"/>`

export const palette: Readonly<Record<string, string>> = {
  processor: "#1f77b4",
  "kafka-engine-default": "#d62728",
  "kafka-engine-tuned": "#ff7f0e",
  "processor + 2 dashboards": "#17becf",
}
const colorOf = (system: string) => palette[system] ?? "#7f7f7f"

const latencyPanel = (r: BenchResult, top: number, height: number): Array<string> => {
  const runs = r.fixedRate.filter((x) => x.latencyMs !== null)
  const out = [
    text(
      20,
      top - 14,
      "End-to-end latency per rate (ms, log scale): bar = p99, ticks = p50 / p95",
      'font-weight="bold"',
    ),
  ]
  if (runs.length === 0) return [...out, text(60, top + 40, "no fixed-rate runs")]
  const rates = [...new Set(runs.map((x) => x.rate))].sort((a, b) => a - b)
  const systems = [...new Set(runs.map((x) => x.system))]
  const values = runs.flatMap((x) => (x.latencyMs === null ? [] : [x.latencyMs.p50, x.latencyMs.p99]))
  const lo = 10 ** Math.floor(Math.log10(Math.max(1, Math.min(...values))))
  const hi = 10 ** Math.ceil(Math.log10(Math.max(10, ...values) * 1.5))
  const left = 70
  const right = W - 200
  const y = (v: number) =>
    top +
    height -
    ((Math.log10(Math.max(v, lo)) - Math.log10(lo)) / (Math.log10(hi) - Math.log10(lo))) * height
  for (let d = lo; d <= hi; d *= 10) {
    out.push(line(left, y(d), right, y(d), "#ddd"), text(left - 8, y(d) + 4, fmt(d), 'text-anchor="end"'))
  }
  out.push(line(left, top, left, top + height, "#333"), line(left, top + height, right, top + height, "#333"))
  const group = (right - left) / rates.length
  const barW = Math.min(48, (group * 0.8) / systems.length)
  rates.forEach((rate, gi) => {
    const gx = left + gi * group + (group - barW * systems.length) / 2
    out.push(text(left + gi * group + group / 2, top + height + 18, `${fmt(rate)}/s`, 'text-anchor="middle"'))
    systems.forEach((system, si) => {
      const run = runs.find((x) => x.rate === rate && x.system === system)
      if (run?.latencyMs == null) return
      const x = gx + si * barW
      const { p50, p95, p99 } = run.latencyMs
      out.push(
        rect(x + 2, y(p99), barW - 4, top + height - y(p99), colorOf(system)),
        line(x, y(p50), x + barW, y(p50), "#000", 2),
        line(x + barW / 4, y(p95), x + (3 * barW) / 4, y(p95), "#000", 1.5),
        text(x + barW / 2, y(p99) - 4, fmt(p99), 'text-anchor="middle" font-size="10"'),
      )
    })
  })
  systems.forEach((system, i) => {
    out.push(
      rect(right + 20, top + 10 + i * 20, 12, 12, colorOf(system)),
      text(right + 38, top + 21 + i * 20, system),
    )
  })
  return out
}

const throughputPanel = (r: BenchResult, top: number): { parts: Array<string>; height: number } => {
  const bars: Array<readonly [string, number, string]> = [
    ...r.drain.map((d) => [`${d.system}: backlog drain`, d.eventsPerSec, colorOf(d.system)] as const),
    ...(r.ceiling === null
      ? []
      : [["ceiling: Kafka ConsumerPerformance", r.ceiling.consumerFetchMsgPerSec, "#2ca02c"] as const]),
  ]
  const parts = [text(20, top - 14, "Throughput (events/s)", 'font-weight="bold"')]
  const rowH = 24
  const left = 330
  const right = W - 120
  const max = Math.max(1, ...bars.map((b) => b[1])) * 1.05
  bars.forEach(([label, value, color], i) => {
    const yy = top + i * rowH
    const w = ((right - left) * value) / max
    parts.push(
      text(left - 8, yy + 15, label, 'text-anchor="end"'),
      rect(left, yy + 3, w, rowH - 6, color),
      text(left + w + 6, yy + 16, fmt(value)),
    )
  })
  if (bars.length === 0) parts.push(text(60, top + 20, "no throughput runs"))
  return { parts, height: Math.max(1, bars.length) * rowH }
}

export const renderChart = (r: BenchResult): string => {
  const latencyTop = 70
  const latencyH = 300
  const tp = throughputPanel(r, latencyTop + latencyH + 90)
  const H = latencyTop + latencyH + 90 + tp.height + 50
  const m = r.machine
  const body = [
    rect(0, 0, W, H, "#fff"),
    text(20, 26, `rtoa bench ${r.date}`, 'font-size="16" font-weight="bold"'),
    text(
      20,
      46,
      `${m.nproc} cores ${m.cpuModel}, ${fmt(m.memTotalMb)} MiB; node ${m.node}, Kafka ${m.kafka}, ClickHouse ${m.clickhouse} (chDB ${m.chdb})`,
      'font-size="11" fill="#555"',
    ),
    ...latencyPanel(r, latencyTop + 20, latencyH),
    ...tp.parts,
  ]
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">\n${body.join("\n")}\n</svg>\n`
}
