import { parseArgs } from "node:util"

/** Command-line options of `node packages/bench/src/main.ts` (and `make bench`). */

export const usage = `Usage: node packages/bench/src/main.ts [options]

Benchmarks the processor end to end on its own Kafka broker (127.0.0.1:19292 by default) and writes
bench/results/<stamp>.json, .svg and .md. Every process it starts is stopped when it ends.

Options:
  --rates LIST        fixed rates in events/s, comma-separated          [default 100,1000,10000]
  --duration S        measured seconds per fixed-rate run               [default 30]
  --warmup S          seconds produced before the measured window       [default 5]
  --drain-events N    events in the backlog of the throughput test      [default 1000000]
  --skip-peer         do not run ClickHouse's Kafka engine as the peer
  --skip-search       no live max-rate search (the backlog drain test still runs)
  --skip-profile      no CPU profile of the processor
  --skip-console      do not measure the operators' console: no A/B runs with 2 simulated
                      dashboards closed and open in turns (at the rates >= 1000/s and the
                      drain) and no panel queries on a synthesized day
  --console-hours H   hours of data (at 1,000 events/s) the panel queries run on [default 24]
  --drain-only        only the backlog drain of each system (and the profile unless skipped,
                      and the drain with dashboards unless --skip-console): for quick A/B
                      experiments
  --scale-out         scale-out: a 12-partition backlog of --drain-events drained by the processor
                      with PROCESSOR_CONSUMERS = each of --scale-members (in the default run;
                      with --quick or --drain-only only when asked)
  --skip-scale-out    no scale-out step
  --scale-members L   consumer-group members per scale-out run, comma-separated [default 1,2,4]
  --quick             a smoke run in about 3 minutes (rates 100,1000 for 6 s, 100k backlog,
                      tuned peer only, no live search, no profile, 2 h for the panel queries)
  --broker-port P     port of the benchmark's own broker (controller P+1) [default 19292]
  --http-port P       first of two HTTP ports (processor, peer)          [default 18391]
  --out DIR           where results go                                   [default bench/results]
  --help              show this help
`

export interface BenchOptions {
  readonly rates: ReadonlyArray<number>
  readonly durationS: number
  readonly warmupS: number
  readonly drainEvents: number
  readonly peer: boolean
  /** Peer profiles to run: the Kafka engine at its defaults and/or tuned for latency. */
  readonly peerProfiles: ReadonlyArray<"default" | "tuned">
  readonly search: boolean
  readonly profile: boolean
  readonly quick: boolean
  readonly drainOnly: boolean
  /** Simulated dashboards open in the console runs (0: no console steps). */
  readonly dashboards: number
  /** Scale-out runs: members per run on a 12-partition backlog (empty: not run). */
  readonly scaleMembers: ReadonlyArray<number>
  /** Hours synthesized for the console's panel queries (0: not run). */
  readonly consoleHours: number
  readonly brokerPort: number
  readonly httpPort: number
  readonly outDir: string
}

export type Parsed =
  | { readonly _tag: "Run"; readonly options: BenchOptions }
  | { readonly _tag: "Help" }
  | { readonly _tag: "Invalid"; readonly message: string }

const spec = {
  rates: { type: "string" },
  duration: { type: "string" },
  warmup: { type: "string" },
  "drain-events": { type: "string" },
  "skip-peer": { type: "boolean" },
  "skip-search": { type: "boolean" },
  "skip-profile": { type: "boolean" },
  "skip-console": { type: "boolean" },
  "console-hours": { type: "string" },
  quick: { type: "boolean" },
  "drain-only": { type: "boolean" },
  "scale-out": { type: "boolean" },
  "skip-scale-out": { type: "boolean" },
  "scale-members": { type: "string" },
  "broker-port": { type: "string" },
  "http-port": { type: "string" },
  out: { type: "string" },
  help: { type: "boolean", short: "h" },
} as const

const positive = (raw: string | undefined): number | undefined =>
  raw !== undefined && /^\d+$/.test(raw) && Number(raw) > 0 ? Number(raw) : undefined

const invalid = (message: string): Parsed => ({ _tag: "Invalid", message })

export const parseOptions = (argv: ReadonlyArray<string>): Parsed => {
  let values: ReturnType<typeof parseArgs<{ options: typeof spec }>>["values"]
  try {
    values = parseArgs({ args: [...argv], options: spec, strict: true, allowPositionals: false }).values
  } catch (e) {
    return invalid(e instanceof Error ? e.message : String(e))
  }
  if (values.help === true) return { _tag: "Help" }
  const quick = values.quick === true
  const numbers: Record<string, number> = {}
  for (const [flag, fallback] of [
    ["duration", quick ? 6 : 30],
    ["warmup", quick ? 2 : 5],
    ["drain-events", quick ? 100_000 : 1_000_000],
    ["broker-port", 19_292],
    ["http-port", 18_391],
    ["console-hours", quick ? 2 : 24],
  ] as const) {
    const raw = values[flag]
    const v = raw === undefined ? fallback : positive(raw)
    if (v === undefined) return invalid(`--${flag}: expected a positive integer, got "${raw}"`)
    numbers[flag] = v
  }
  let rates: ReadonlyArray<number> = quick ? [100, 1_000] : [100, 1_000, 10_000]
  if (values.rates !== undefined) {
    const parsed = values.rates.split(",").map((r) => positive(r.trim()))
    if (parsed.length === 0 || parsed.some((r) => r === undefined))
      return invalid(`--rates: expected comma-separated positive integers, got "${values.rates}"`)
    rates = parsed.filter((r): r is number => r !== undefined)
  }
  const members = (values["scale-members"] ?? "1,2,4").split(",").map((m) => positive(m.trim()))
  if (members.some((m) => m === undefined || m > 12))
    return invalid(
      `--scale-members: expected comma-separated integers 1-12, got "${values["scale-members"]}"`,
    )
  if (values["scale-out"] === true && values["skip-scale-out"] === true)
    return invalid("--scale-out and --skip-scale-out contradict each other")
  const scaleOut =
    values["scale-out"] === true ||
    (!quick && values["drain-only"] !== true && values["skip-scale-out"] !== true)
  const brokerPort = numbers["broker-port"] ?? 19_292
  if ([19_092, 19_192, 29_192].some((p) => p === brokerPort || p === brokerPort + 1))
    return invalid(`--broker-port: ${brokerPort} collides with a broker other people use; pick another`)
  const peer = values["skip-peer"] !== true
  const consoleSteps = values["skip-console"] !== true
  const consoleHours = numbers["console-hours"] ?? 24
  if (consoleHours > 168) return invalid(`--console-hours: at most 168 (a week), got ${consoleHours}`)
  return {
    _tag: "Run",
    options: {
      rates,
      durationS: numbers.duration ?? 30,
      warmupS: numbers.warmup ?? 5,
      drainEvents: numbers["drain-events"] ?? 1_000_000,
      peer,
      peerProfiles: !peer ? [] : quick ? ["tuned"] : ["default", "tuned"],
      search: !quick && values["drain-only"] !== true && values["skip-search"] !== true,
      profile: !quick && values["skip-profile"] !== true,
      quick,
      drainOnly: values["drain-only"] === true,
      // The "two dashboards open".
      dashboards: consoleSteps ? 2 : 0,
      scaleMembers: scaleOut ? members.filter((m): m is number => m !== undefined) : [],
      consoleHours: consoleSteps && values["drain-only"] !== true ? consoleHours : 0,
      brokerPort,
      httpPort: numbers["http-port"] ?? 18_391,
      outDir: values.out ?? "bench/results",
    },
  }
}
