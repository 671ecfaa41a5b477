/**
 * Reads a V8 .cpuprofile (node --cpu-prof) and attributes every sample to a pipeline stage by
 * looking at its whole stack: a sample inside decodeRecords is "decode" even when its leaf is
 * JSON.parse or an Effect Schema internal. Stages are checked in the order below; the first whose
 * test matches any frame of the stack wins, so app stages beat the generic runtimes under them.
 */

export interface CallFrame {
  readonly functionName: string
  readonly url: string
  readonly lineNumber: number
}

export interface ProfileNode {
  readonly id: number
  readonly callFrame: CallFrame
  readonly children?: ReadonlyArray<number>
}

export interface CpuProfile {
  readonly nodes: ReadonlyArray<ProfileNode>
  readonly samples: ReadonlyArray<number>
  readonly timeDeltas: ReadonlyArray<number>
}

type FrameTest = (f: CallFrame) => boolean
/** A test over a whole stack, leaf first. */
type StackTest = (stack: ReadonlyArray<CallFrame>) => boolean

const file =
  (suffix: string): FrameTest =>
  (f) =>
    f.url.endsWith(suffix)
const pkg =
  (name: string): FrameTest =>
  (f) =>
    f.url.includes(`/node_modules/${name}/`) || f.url.includes(`/${name}@`)
const named =
  (re: RegExp): FrameTest =>
  (f) =>
    re.test(f.functionName)
/** Some frame of the stack passes one of the tests. */
const some =
  (...tests: ReadonlyArray<FrameTest>): StackTest =>
  (stack) =>
    stack.some((f) => tests.some((t) => t(f)))
/** The leaf frame passes the test. */
const leaf =
  (test: FrameTest): StackTest =>
  (stack) =>
    stack[0] !== undefined && test(stack[0])
/**
 * The insert body (`rows.map(JSON.stringify).join`): self time of clickhouse.ts itself, builtins
 * (empty url) included. Everything else the insert does runs in @clickhouse/client or chdb frames.
 */
const insertEncoding: StackTest = (stack) => {
  const script = stack.find((f) => f.url !== "")
  return script !== undefined && file("core/src/clickhouse.ts")(script)
}

/** Stage rules, first match wins. */
export const stageRules: ReadonlyArray<readonly [string, StackTest]> = [
  ["gc", leaf(named(/^\(garbage collector\)$/))],
  ["idle", leaf(named(/^\(idle\)$/))],
  ["decode (JSON.parse + Schema)", some(file("pipeline/src/decode.ts"), file("core/src/event.ts"))],
  ["grouping + row building (window.ts)", some(file("pipeline/src/window.ts"))],
  ["JSON encoding (insert body)", insertEncoding],
  [
    "chDB insert (@clickhouse/client + chdb)",
    some(
      file("core/src/clickhouse.ts"),
      pkg("@clickhouse/client"),
      pkg("@clickhouse/client-common"),
      pkg("chdb"),
    ),
  ],
  ["commit", some(named(/commitOffsets/), file("pipeline/src/commit.ts"))],
  ["consume (kafkajs + source)", some(pkg("kafkajs"), file("processor/src/kafka-source.ts"))],
  [
    "metrics + tracing",
    some(
      file("processor/src/metrics.ts"),
      file("processor/src/tracing.ts"),
      pkg("@opentelemetry/sdk-trace-base"),
    ),
  ],
  [
    "pipeline bookkeeping (pipeline.ts)",
    some(file("pipeline/src/pipeline.ts"), file("processor/src/pipeline-observer.ts")),
  ],
  ["effect runtime (fibers, streams)", some(pkg("effect"))],
  ["start-up (module loading)", some((f) => f.url.startsWith("node:internal/modules/"))],
  ["node internals (streams, timers, net)", some((f) => f.url.startsWith("node:"))],
  ["program (native, VM)", leaf(named(/^\(program\)$/))],
]

export interface StageTime {
  readonly stage: string
  readonly ms: number
  readonly pct: number
}

export interface FrameTime {
  readonly fn: string
  readonly where: string
  readonly stage: string
  readonly selfMs: number
  readonly pct: number
}

export interface ProfileSummary {
  readonly sampledMs: number
  /** Sampled time minus idle: the base of every percentage. */
  readonly busyMs: number
  readonly stages: ReadonlyArray<StageTime>
  readonly topFrames: ReadonlyArray<FrameTime>
}

const shortUrl = (url: string) =>
  url
    .replace(/^file:\/\//, "")
    .replace(/^.*\/node_modules\/\.pnpm\/[^/]+\/node_modules\//, "")
    .replace(/^.*\/packages\//, "")

export const classify = (stack: ReadonlyArray<CallFrame>): string => {
  for (const [stage, test] of stageRules) if (test(stack)) return stage
  return "other"
}

/** Time per stage (ms, and % of the busy time: idle left out) and the top self-time frames. */
export const summarizeProfile = (profile: CpuProfile, top = 20): ProfileSummary => {
  const byId = new Map<number, ProfileNode>()
  const parent = new Map<number, number>()
  for (const n of profile.nodes) {
    byId.set(n.id, n)
    for (const c of n.children ?? []) parent.set(c, n.id)
  }
  const stackCache = new Map<number, string>()
  const stageOf = (id: number): string => {
    const cached = stackCache.get(id)
    if (cached !== undefined) return cached
    const stack: Array<CallFrame> = []
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const node = byId.get(at)
      if (node !== undefined) stack.push(node.callFrame)
    }
    const stage = classify(stack)
    stackCache.set(id, stage)
    return stage
  }
  const stageUs = new Map<string, number>()
  const selfUs = new Map<number, number>()
  let total = 0
  profile.samples.forEach((id, i) => {
    const us = Math.max(0, profile.timeDeltas[i] ?? 0)
    total += us
    const stage = stageOf(id)
    stageUs.set(stage, (stageUs.get(stage) ?? 0) + us)
    selfUs.set(id, (selfUs.get(id) ?? 0) + us)
  })
  const busy = total - (stageUs.get("idle") ?? 0)
  const pct = (us: number) => (busy <= 0 ? 0 : Math.round((us / busy) * 1_000) / 10)
  const ms = (us: number) => Math.round(us / 100) / 10
  // One row per function; its stage is the one where most of its self time was spent.
  const frames = new Map<string, { fn: string; where: string; us: number; byStage: Map<string, number> }>()
  for (const [id, us] of selfUs) {
    const node = byId.get(id)
    if (node === undefined) continue
    const where =
      node.callFrame.url === "" ? "" : `${shortUrl(node.callFrame.url)}:${node.callFrame.lineNumber + 1}`
    const key = `${node.callFrame.functionName}@${where}`
    const entry = frames.get(key) ?? {
      fn: node.callFrame.functionName || "(anonymous)",
      where,
      us: 0,
      byStage: new Map(),
    }
    entry.us += us
    const stage = stageOf(id)
    entry.byStage.set(stage, (entry.byStage.get(stage) ?? 0) + us)
    frames.set(key, entry)
  }
  const mainStage = (byStage: ReadonlyMap<string, number>) =>
    [...byStage].reduce((best, cur) => (cur[1] > best[1] ? cur : best), ["other", -1] as [string, number])[0]
  return {
    sampledMs: ms(total),
    busyMs: ms(busy),
    stages: [...stageUs]
      .filter(([stage]) => stage !== "idle")
      .sort((a, b) => b[1] - a[1])
      .map(([stage, us]) => ({ stage, ms: ms(us), pct: pct(us) })),
    topFrames: [...frames.values()]
      .map((f) => ({ ...f, stage: mainStage(f.byStage) }))
      .filter((f) => f.stage !== "idle")
      .sort((a, b) => b.us - a.us)
      .slice(0, top)
      .map((f) => ({ fn: f.fn, where: f.where, stage: f.stage, selfMs: ms(f.us), pct: pct(f.us) })),
  }
}
