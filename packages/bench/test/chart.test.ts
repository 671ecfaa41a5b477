import { describe, expect, it } from "vitest"
import { renderChart } from "../src/chart.ts"
import { renderSummary } from "../src/summary.ts"
import { sampleResult } from "./fixtures.ts"

describe("renderChart", () => {
  it("renders a standalone SVG with both panels and every system", () => {
    const svg = renderChart(sampleResult())
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true)
    expect(svg.trimEnd().endsWith("</svg>")).toBe(true)
    expect(svg).toContain("End-to-end latency per rate")
    expect(svg).toContain("Throughput (events/s)")
    expect(svg).toContain("kafka-engine-tuned")
    expect(svg).toContain("ceiling: Kafka ConsumerPerformance")
    expect(svg).toContain("1,000/s")
    expect(svg).not.toMatch(/NaN|undefined|Infinity/)
  })

  it("puts the higher p99 higher on the log axis", () => {
    const svg = renderChart(sampleResult())
    // p99 labels are drawn just above their bars: 2,000 ms sits above 330 ms.
    const yOf = (label: string) => Number(new RegExp(`y="([\\d.]+)"[^>]*>${label}<`).exec(svg)?.[1])
    expect(yOf("2,000")).toBeLessThan(yOf("330"))
  })

  it("escapes text and copes with no runs at all", () => {
    const empty = { ...sampleResult(), fixedRate: [], drain: [], clients: [], ceiling: null }
    const svg = renderChart({ ...empty, machine: { ...empty.machine, cpuModel: "A&B <x>" } })
    expect(svg).toContain("A&amp;B &lt;x&gt;")
    expect(svg).toContain("no fixed-rate runs")
    expect(svg).toContain("no throughput runs")
  })
})

describe("renderSummary", () => {
  it("has the latency and throughput tables", () => {
    const md = renderSummary(sampleResult())
    expect(md).toContain("| processor | 100 |")
    expect(md).toContain("| processor: backlog drain (150,000 events) | 20,000 |")
    expect(md).toContain("- a <note> & more")
  })
})
