import { Schema } from "effect"
import { PerEventCosts, TableStorage } from "./results-costs.ts"

/**
 * The result file of one bench run (bench/results/<stamp>.json). A Schema, so a file can be read
 * back and checked (tests, later comparisons) and a missing field is a decode error, not a NaN.
 */

export const Percentiles = Schema.Struct({
  n: Schema.Number,
  p50: Schema.Number,
  p95: Schema.Number,
  p99: Schema.Number,
  max: Schema.Number,
  mean: Schema.Number,
})

const Cores = Schema.Record({ key: Schema.String, value: Schema.Number })

/** One console route as the simulated dashboards used it (dashboards.ts). */
export const RouteLoad = Schema.Struct({
  route: Schema.String,
  requests: Schema.Number,
  /** Non-2xx answers, timeouts and network errors. */
  errors: Schema.Number,
  /** Request sent -> body read, as the client saw it. */
  latencyMs: Schema.NullOr(Percentiles),
})

/** What the simulated dashboards did while a run was measured. */
export const DashboardLoad = Schema.Struct({
  clients: Schema.Number,
  seconds: Schema.Number,
  routes: Schema.Array(RouteLoad),
  /** Server-sent events received on /api/stream, by event type. */
  streamEvents: Schema.Record({ key: Schema.String, value: Schema.Number }),
  /** Times a stream had to be opened again (ended or failed). */
  streamReconnects: Schema.Number,
  firstError: Schema.NullOr(Schema.String),
})

export const Machine = Schema.Struct({
  nproc: Schema.Number,
  memTotalMb: Schema.Number,
  cpuModel: Schema.String,
  kernel: Schema.String,
  node: Schema.String,
  kafka: Schema.String,
  chdb: Schema.String,
  clickhouse: Schema.String,
  kafkajs: Schema.String,
  platformaticKafka: Schema.String,
  loadAvgAtStart: Schema.Array(Schema.Number),
})

/**
 * What a run asked of one ClickHouse table over its measured window (writes.ts): blocks written
 * by inserts (one new part each; an insert spanning n partitions counts n) and parts written by
 * merges. Counted from system.parts, the same way for every system.
 */
export const TableWrites = Schema.Struct({
  table: Schema.String,
  /** Length of the window the counts cover (between the samples that bound it). */
  seconds: Schema.Number,
  inserts: Schema.Number,
  insertsPerSec: Schema.Number,
  /** Inserts plus the parts merges wrote in the window. */
  partsCreated: Schema.Number,
  activePartsAtEnd: Schema.Number,
})

export const FixedRateRun = Schema.Struct({
  system: Schema.String,
  rate: Schema.Number,
  warmupS: Schema.Number,
  durationS: Schema.Number,
  sent: Schema.Number,
  producerRate: Schema.Number,
  ingested: Schema.Number,
  /** Events whose event_time falls in the measured window (the latency sample). */
  windowEvents: Schema.Number,
  /** ingested_at - event_time, ms, over the window. */
  latencyMs: Schema.NullOr(Percentiles),
  /** Poll-based probes: send -> first successful SELECT, ms. */
  probeVisibleMs: Schema.NullOr(Percentiles),
  /** Probes: first successful SELECT - ingested_at, ms (what ingested_at misses, plus poll step). */
  probeGapMs: Schema.NullOr(Percentiles),
  /** Kafka record timestamp (CreateTime) - event_time, ms, for a sample of the run's records. */
  createTimeMinusEventTimeMs: Schema.NullOr(Percentiles),
  cpuCores: Schema.Number,
  threadsCores: Cores,
  rssPeakMb: Schema.Number,
  /** Peak anonymous RSS (RssAnon, sampled): heaps and buffers, without mapped library code. */
  rssAnonPeakMb: Schema.Number,
  /** Peak of the embedded engine's own MemoryTracking (system.metrics) during the run. */
  engineMemPeakMb: Schema.Number,
  lagMax: Schema.Number,
  brokerCpuCores: Schema.Number,
  /** Set on runs with simulated dashboards open (absent in older result files). */
  dashboards: Schema.optional(DashboardLoad),
  /** A/B runs: how many measured periods this half had (absent in older result files). */
  abPeriods: Schema.optional(Schema.Number),
  /** Writes per table over the measured window (absent in older result files). */
  tables: Schema.optional(Schema.Array(TableWrites)),
})

export const DrainRun = Schema.Struct({
  system: Schema.String,
  events: Schema.Number,
  ingested: Schema.Number,
  /** Events between the 10th and 90th percentile of ingested_at, per second. */
  eventsPerSec: Schema.Number,
  /** All events over first-to-last ingested_at. */
  overallPerSec: Schema.Number,
  cpuCores: Schema.Number,
  threadsCores: Cores,
  rssPeakMb: Schema.Number,
  rssAnonPeakMb: Schema.Number,
  engineMemPeakMb: Schema.Number,
  dashboards: Schema.optional(DashboardLoad),
  /** A/B runs: how many measured periods this half had (absent in older result files). */
  abPeriods: Schema.optional(Schema.Number),
  /** Writes per table over the drain's measured interval (absent in older result files). */
  tables: Schema.optional(Schema.Array(TableWrites)),
  /** Partitions of the drained topic and consumer-group members in the process (scale-out runs). */
  partitions: Schema.optional(Schema.Number),
  members: Schema.optional(Schema.Number),
  /** The broker's CPU, the whole machine's (every process) and its CPU pressure (0-1), same interval. */
  brokerCores: Schema.optional(Schema.Number),
  machineCores: Schema.optional(Schema.Number),
  cpuPressure: Schema.optional(Schema.Number),
  /** Active parts per table after the drain (absent in older result files). */
  storage: Schema.optional(Schema.Array(TableStorage)),
})

export const SearchStep = Schema.Struct({
  rate: Schema.Number,
  achieved: Schema.Number,
  endLag: Schema.Number,
  lagSlopePerSec: Schema.Number,
  pass: Schema.Boolean,
})

export const Search = Schema.Struct({
  system: Schema.String,
  steps: Schema.Array(SearchStep),
  sustained: Schema.NullOr(Schema.Number),
})

/** Kafka's ConsumerPerformance on the drained backlog; the producer fields: older files only. */
export const Ceiling = Schema.Struct({
  consumerMsgPerSec: Schema.Number,
  consumerFetchMsgPerSec: Schema.Number,
  consumerMbPerSec: Schema.Number,
  producerMsgPerSec: Schema.optional(Schema.Number),
  producerMbPerSec: Schema.optional(Schema.Number),
  producerP99Ms: Schema.optional(Schema.Number),
})

export const ClientRun = Schema.Struct({
  client: Schema.String,
  messages: Schema.Number,
  seconds: Schema.Number,
  msgPerSec: Schema.Number,
  cpuCores: Schema.Number,
  rssPeakMb: Schema.Number,
})

export const ProfileStage = Schema.Struct({ stage: Schema.String, ms: Schema.Number, pct: Schema.Number })
export const ProfileFrame = Schema.Struct({
  fn: Schema.String,
  where: Schema.String,
  stage: Schema.String,
  selfMs: Schema.Number,
  pct: Schema.Number,
})

export const Profile = Schema.Struct({
  file: Schema.String,
  events: Schema.Number,
  sampledMs: Schema.Number,
  busyMs: Schema.Number,
  stages: Schema.Array(ProfileStage),
  topFrames: Schema.Array(ProfileFrame),
  threadsCores: Cores,
})

export const Target = Schema.Struct({
  name: Schema.String,
  target: Schema.String,
  measured: Schema.String,
  met: Schema.NullOr(Schema.Boolean),
})

/** One console query timed on the synthesized store (console-queries.ts). */
export const PanelTiming = Schema.Struct({
  panel: Schema.String,
  /** "24 h", "1 h", "last minute" (the range the page asks for). */
  range: Schema.String,
  stepS: Schema.Number,
  points: Schema.Number,
  runsMs: Schema.Array(Schema.Number),
  medianMs: Schema.Number,
  maxMs: Schema.Number,
  /** Every timed run under 100 ms. */
  under100: Schema.Boolean,
})

export const ConsoleQueries = Schema.Struct({
  hours: Schema.Number,
  eventsPerSec: Schema.Number,
  events: Schema.Number,
  synthesisS: Schema.Number,
  /** Seconds per synthesis stage (states, counts refresh, integrity, ingest_stats, previous day). */
  stagesS: Schema.Record({ key: Schema.String, value: Schema.Number }),
  /** Active parts and MB on disk per table when the queries ran. */
  tables: Schema.Array(Schema.Struct({ table: Schema.String, parts: Schema.Number, mb: Schema.Number })),
  panels: Schema.Array(PanelTiming),
  elapsedS: Schema.Number,
})

/** A measurement with simulated dashboards open next to the same one without. */
export const ConsoleComparison = Schema.Struct({
  run: Schema.String,
  metric: Schema.String,
  without: Schema.Number,
  with: Schema.Number,
  /** with / without. */
  ratio: Schema.Number,
  /** Within the 5% (null: shown for information, not judged). */
  ok: Schema.NullOr(Schema.Boolean),
})

export const ConsoleCost = Schema.Struct({
  dashboards: Schema.Number,
  comparisons: Schema.Array(ConsoleComparison),
  queries: Schema.NullOr(ConsoleQueries),
})

export const BenchResult = Schema.Struct({
  version: Schema.Literal(1),
  date: Schema.String,
  command: Schema.String,
  gitCommit: Schema.String,
  options: Schema.Record({ key: Schema.String, value: Schema.Unknown }),
  machine: Machine,
  elapsedS: Schema.Number,
  fixedRate: Schema.Array(FixedRateRun),
  drain: Schema.Array(DrainRun),
  ceiling: Schema.NullOr(Ceiling),
  /**
   * Live search, raw-client runs and the CPU profile: in files written before they moved to
   * packages/bench/experiments, which print the same shapes.
   */
  search: Schema.optional(Schema.NullOr(Search)),
  clients: Schema.optional(Schema.Array(ClientRun)),
  profile: Schema.optional(Schema.NullOr(Profile)),
  targets: Schema.Array(Target),
  notes: Schema.Array(Schema.String),
  /** The operators' console's cost (absent in older result files and with --skip-console). */
  console: Schema.optional(ConsoleCost),
  /** Scale-out: a 12-partition backlog drained by 1, 2, 4 members in one process (scale-out.ts). */
  scaleOut: Schema.optional(Schema.Array(DrainRun)),
  /** The capacity model's inputs (costs.ts; absent in older result files). */
  perEvent: Schema.optional(PerEventCosts),
})

export type BenchResult = typeof BenchResult.Type
export type FixedRateRun = typeof FixedRateRun.Type
export type DrainRun = typeof DrainRun.Type
export type TableWrites = typeof TableWrites.Type
export type Search = typeof Search.Type
export type SearchStep = typeof SearchStep.Type
export type Ceiling = typeof Ceiling.Type
export type ClientRun = typeof ClientRun.Type
export type Profile = typeof Profile.Type
export type Target = typeof Target.Type
export type Machine = typeof Machine.Type
export type RouteLoad = typeof RouteLoad.Type
export type DashboardLoad = typeof DashboardLoad.Type
export type PanelTiming = typeof PanelTiming.Type
export type ConsoleQueries = typeof ConsoleQueries.Type
export type ConsoleComparison = typeof ConsoleComparison.Type
export type ConsoleCost = typeof ConsoleCost.Type

export const encodeResult = Schema.encodeSync(BenchResult)
export const decodeResult = Schema.decodeUnknownEither(BenchResult)
