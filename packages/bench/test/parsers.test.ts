import { CliConfig, Command, HelpDoc } from "@effect/cli"
import { Effect } from "effect"
import { describe, expect, it } from "vitest"
import { judgeStep, nextRate } from "../experiments/live-search.ts"
import { parseProducerPerf } from "../experiments/producer-ceiling.ts"
import { parseConsumerPerf } from "../src/ceiling.ts"
import { benchCommand, parseOptions } from "../src/cli.ts"
import { parseDrain, parseLatency } from "../src/latency.ts"
import { parseProducerSummary } from "../src/loadgen.ts"
import { peerStatements, profileSettings } from "../src/peer/schema.ts"
import { parseStat, parseStatus, threadGroup } from "../src/procstat.ts"

describe("/proc parsing", () => {
  it("reads utime and stime after a command name with spaces and parentheses", () => {
    const stat = "1234 (node (x) y) S 1 1234 1234 0 -1 4194560 100 0 0 0 250 75 0 0 20 0 11 0 12345 1 2"
    expect(parseStat(stat)).toEqual({ utime: 250, stime: 75 })
    expect(parseStat("garbage")).toBeUndefined()
  })

  it("reads VmHWM, VmRSS, RssAnon and RssFile", () => {
    const status =
      "Name:\tnode\nVmPeak:\t 999 kB\nVmHWM:\t  530000 kB\nVmRSS:\t  420000 kB\nRssAnon:\t  120000 kB\nRssFile:\t  300000 kB\n"
    expect(parseStatus(status)).toEqual({ hwmKb: 530_000, rssKb: 420_000, anonKb: 120_000, fileKb: 300_000 })
    expect(parseStatus("VmHWM:\t 2 kB\nVmRSS:\t 1 kB\n")).toEqual({
      hwmKb: 2,
      rssKb: 1,
      anonKb: 0,
      fileKb: 0,
    })
    expect(parseStatus("Name: x\n")).toBeUndefined()
  })

  it("folds pool slot numbers into one thread group", () => {
    expect(threadGroup("libuv-worker\n")).toBe("libuv-worker")
    expect(threadGroup("QueryPipelineEx12")).toBe("QueryPipelineEx")
    expect(threadGroup("rdk:broker1")).toBe("rdk:broker")
  })
})

describe("cli", () => {
  it("defaults to the issue's rates and 30 s runs with the peer", () => {
    const p = parseOptions([])
    expect(p._tag).toBe("Run")
    if (p._tag !== "Run") return
    expect(p.options.rates).toEqual([100, 1_000, 10_000])
    expect(p.options.durationS).toBe(30)
    expect(p.options.peerProfiles).toEqual(["default", "tuned"])
    // The live search and the CPU profile are experiments now (packages/bench/experiments).
    expect("search" in p.options || "profile" in p.options).toBe(false)
    expect(p.options.scaleMembers).toEqual([1, 2, 4])
    expect(p.options.dashboards).toBe(2)
    expect(p.options.consoleHours).toBe(24)
  })

  it("shrinks everything with --quick, keeps explicit rates, drops the peer with --skip-peer", () => {
    const p = parseOptions(["--quick", "--rates", "50,500", "--skip-peer"])
    if (p._tag !== "Run") throw new Error(p._tag)
    expect(p.options.rates).toEqual([50, 500])
    expect(p.options.durationS).toBeLessThan(30)
    expect(p.options.peerProfiles).toEqual([])
    expect("search" in p.options || "profile" in p.options).toBe(false)
    expect(p.options.consoleHours).toBe(2)
  })

  it("refuses bad values and other people's broker ports", () => {
    expect(parseOptions(["--rates", "100,x"])._tag).toBe("Invalid")
    expect(parseOptions(["--duration", "0"])._tag).toBe("Invalid")
    expect(parseOptions(["--broker-port", "19092"])._tag).toBe("Invalid")
    expect(parseOptions(["--broker-port", "19191"])._tag).toBe("Invalid")
    expect(parseOptions(["--nope"])._tag).toBe("Invalid")
    expect(parseOptions(["--help"])._tag).toBe("Help")
  })

  it("names the flag in a validation message and lists every flag in the generated help", () => {
    const bad = parseOptions(["--rates", "100,x"])
    expect(bad._tag === "Invalid" && bad.message).toContain("--rates")
    const help = HelpDoc.toAnsiText(
      Command.getHelp(
        benchCommand(() => Effect.void),
        CliConfig.defaultConfig,
      ),
    )
    for (const flag of [
      "rates",
      "duration",
      "warmup",
      "drain-events",
      "skip-peer",
      "skip-search",
      "skip-profile",
      "skip-console",
      "console-hours",
      "drain-only",
      "scale-out",
      "skip-scale-out",
      "scale-members",
      "quick",
      "broker-port",
      "http-port",
      "out",
    ])
      expect(help).toContain(`--${flag}`)
  })
})

describe("output parsers", () => {
  it("reads the producer's summary line", () => {
    const log =
      "producer completed: sent 300,000 (valid 300,000, duplicates 0, malformed 0) in 8.1 s, achieved 36,299.4 msg/s (target 200,000/s), skipped 5 while behind"
    expect(parseProducerSummary(log)).toEqual({ sent: 300_000, achievedRate: 36_299.4 })
  })

  it("reads Kafka's perf tools", () => {
    const consumer =
      "start.time, end.time, data.consumed.in.MB, MB.sec, data.consumed.in.nMsg, nMsg.sec, rebalance.time.ms, fetch.time.ms, fetch.MB.sec, fetch.nMsg.sec\n" +
      "2026-11-25 19:02:44:288, 2026-11-25 19:02:47:796, 105.8344, 30.1694, 500000, 142531.3569, 598, 2910, 36.3692, 171821.3058\n"
    expect(parseConsumerPerf(consumer)).toEqual({
      mbPerSec: 30.1694,
      msgPerSec: 142531.3569,
      fetchMsgPerSec: 171821.3058,
    })
    const producer =
      "150000 records sent, 37741.3 records/sec (8.01 MB/sec), 1200.5 ms avg latency, 3100.0 ms max latency, 1000 ms 50th, 2500 ms 95th, 2898 ms 99th, 3000 ms 99.9th.\n"
    expect(parseProducerPerf(producer)).toEqual({ msgPerSec: 37741.3, mbPerSec: 8.01, p99Ms: 2898 })
  })

  it("reads latency and drain rows", () => {
    expect(parseLatency({ n: "3", q: [1, 2, 3], mx: 4, mean: 2.04 })).toEqual({
      n: 3,
      p50: 1,
      p95: 2,
      p99: 3,
      max: 4,
      mean: 2,
    })
    expect(parseLatency({ n: 0, q: [0, 0, 0] })).toBeUndefined()
    const d = parseDrain({ n: 100_000, first: 0, last: 10_000, q: [1_000, 9_000] })
    expect(d?.eventsPerSec).toBe(10_000)
    expect(d?.overallPerSec).toBe(10_000)
    // One block: every row has the same ingested_at; the rate then runs from the system's start.
    const one = parseDrain({ n: 65_536, first: 5_000, last: 5_000, q: [5_000, 5_000] }, 4_000)
    expect(one?.eventsPerSec).toBe(65_536)
  })
})

describe("peer schema", () => {
  it("puts the profile's settings on the Kafka table and feeds both targets", () => {
    const sql = peerStatements({
      brokers: "127.0.0.1:1",
      topic: "t",
      group: "g",
      settings: profileSettings.tuned,
    })
    expect(sql).toHaveLength(3)
    expect(sql[0]).toContain("ENGINE = Kafka")
    expect(sql[0]).toContain("kafka_flush_interval_ms = 100")
    expect(sql[0]).toContain("kafka_group_name = 'g'")
    expect(sql[1]).toContain("TO raw_events")
    expect(sql[2]).toContain("TO metrics_minutely")
  })

  it("refuses a setting name that is not one", () => {
    expect(() =>
      peerStatements({ brokers: "b", topic: "t", group: "g", settings: { "x; DROP TABLE y": 1 } }),
    ).toThrow(RangeError)
  })
})

describe("live search", () => {
  it("passes a step whose lag stays flat and fails one whose lag grows", () => {
    const flat = Array.from({ length: 20 }, (_, i) => [i * 1_000, 300] as const)
    expect(judgeStep(10_000, 9_900, flat).pass).toBe(true)
    const growing = Array.from({ length: 20 }, (_, i) => [i * 1_000, i * 2_000] as const)
    expect(judgeStep(10_000, 9_900, growing).pass).toBe(false)
    expect(judgeStep(10_000, 7_000, flat).pass).toBe(false)
  })

  it("steps down after a failure, up after a pass, and stops between neighbours", () => {
    const step = (rate: number, pass: boolean) => ({
      rate,
      achieved: rate,
      endLag: 0,
      lagSlopePerSec: 0,
      pass,
    })
    expect(nextRate([step(20_000, false)], 5)).toBe(16_000)
    expect(nextRate([step(10_000, true)], 5)).toBe(12_000)
    expect(nextRate([step(20_000, false), step(16_000, true)], 5)).toBe(18_000)
    expect(nextRate([step(17_000, false), step(16_000, true)], 5)).toBeUndefined()
    expect(nextRate([step(20_000, false)], 1)).toBeUndefined()
  })
})
