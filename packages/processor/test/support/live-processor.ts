import { execFile, spawn } from "node:child_process"
import { randomBytes } from "node:crypto"
import * as fs from "node:fs"
import * as path from "node:path"
import { promisify } from "node:util"
import {
  makeKafka,
  NODE_FLAGS,
  type Proc,
  parseJsonEachRow,
  postProcessorQuery,
  type ReadRecord,
  readTopic,
  spawnLogged,
} from "@rtoa/core"
import { brokers, repoRoot, runCli, tempDir, uniqueName } from "@rtoa/core/test/support/it.ts"
import { Effect } from "effect"
import type { Kafka } from "kafkajs"

/**
 * The real processor program as a child process on the shared test broker, with its own topics,
 * group, embedded store and port: what a user runs, so a crash or a stall shows as one.
 */
export interface LiveProcessor {
  readonly topic: string
  readonly dlqTopic: string
  readonly groupId: string
  readonly port: number
  /** The endpoint's bearer token (GET sends it). */
  readonly token: string
  readonly env: NodeJS.ProcessEnv
  /** The running child (a new one after `restart`). */
  readonly proc: Proc
  readonly kafka: Kafka
  readonly alive: () => boolean
  readonly log: () => string
  readonly rows: (sql: string) => Promise<Array<Record<string, unknown>>>
  /** GET a route; resolves with the status and the body as text. */
  readonly get: (route: string) => Promise<{ readonly status: number; readonly body: string }>
  readonly deadLetters: () => Promise<ReadonlyArray<ReadRecord>>
  /** Committed offset per partition of the events topic (-1: nothing yet). */
  readonly committed: () => Promise<ReadonlyMap<number, number>>
  readonly stop: () => Promise<void>
  /** Stops it (SIGTERM) and starts the program again with the same env: topics, store, port, token. */
  readonly restart: () => Promise<void>
}

// RTOA_TEST_PROCESSOR_MAIN runs the suite against another build (e.g. an older checkout, to see
// that a regression test fails there).
export const processorMain =
  process.env.RTOA_TEST_PROCESSOR_MAIN ?? path.join(repoRoot, "packages/processor/src/main.ts")

/** Polls `check` every 200 ms until it returns a value, or fails after `timeoutMs` with `what`. */
export const eventually = async <A>(
  what: string,
  check: () => Promise<A | undefined>,
  timeoutMs = 30_000,
) => {
  const deadline = Date.now() + timeoutMs
  let last: unknown
  for (;;) {
    try {
      const value = await check()
      if (value !== undefined) return value
    } catch (e) {
      last = e
    }
    if (Date.now() > deadline)
      throw new Error(`${what}: not within ${timeoutMs} ms${last ? ` (${String(last)})` : ""}`)
    await new Promise((r) => setTimeout(r, 200))
  }
}

const run = <A, E>(effect: Effect.Effect<A, E>) => Effect.runPromise(effect)

/** Applies the migrations, starts the processor and waits until /ready answers 200. */
export const startLiveProcessor = async (
  name: string,
  extraEnv: Readonly<Record<string, string>> = {},
  options: { readonly waitReady?: boolean; readonly ddl?: boolean } = {},
): Promise<LiveProcessor> => {
  const topic = uniqueName(name)
  const token = `test-${randomBytes(12).toString("hex")}`
  const dir = tempDir(name)
  const port = 20_000 + Math.floor(Math.random() * 20_000)
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    RTOA_HOME: repoRoot,
    KAFKA_BROKERS: brokers,
    KAFKA_TOPIC: topic,
    KAFKA_DLQ_TOPIC: `${topic}-dlq`,
    KAFKA_GROUP_ID: `${topic}-group`,
    CLICKHOUSE_URL: "",
    CLICKHOUSE_DATA_PATH: path.join(dir, "chdb"),
    PROCESSOR_HTTP_PORT: String(port),
    BATCH_MAX_WAIT_MS: "100",
    PROCESSOR_HTTP_TOKEN: token,
    ...extraEnv,
  }
  if (options.ddl !== false) {
    const ddl = await runCli(env, "ddl")
    if (ddl.code !== 0) throw new Error(`make ddl failed: ${ddl.stderr}`)
  }
  const logFile = path.join(dir, "processor.log")
  const spawnProcessor = () =>
    spawnLogged(name, process.execPath, [...NODE_FLAGS, processorMain], env, logFile)
  let proc = spawnProcessor()
  const base = `http://127.0.0.1:${port}`
  const kafka = makeKafka({
    brokers: brokers.split(","),
    clientId: `${name}-test`,
    topic,
    dlqTopic: `${topic}-dlq`,
    groupId: `${topic}-group`,
    partitions: 1,
  })
  const log = () => (fs.existsSync(logFile) ? fs.readFileSync(logFile, "utf8") : "")
  const get = async (route: string) => {
    const r = await fetch(`${base}${route}`, {
      signal: AbortSignal.timeout(5_000),
      headers: { authorization: `Bearer ${token}` },
    })
    return { status: r.status, body: await r.text() }
  }
  const live: LiveProcessor = {
    topic,
    dlqTopic: `${topic}-dlq`,
    groupId: `${topic}-group`,
    port,
    env,
    get proc() {
      return proc
    },
    kafka,
    alive: () => proc.child.exitCode === null && proc.child.signalCode === null,
    log,
    rows: (sql) =>
      postProcessorQuery(base, sql, { format: "JSONEachRow", timeoutMs: 10_000, token }).then(
        parseJsonEachRow,
      ),
    get,
    token,
    deadLetters: () => run(readTopic(kafka, `${topic}-dlq`)),
    committed: async () => {
      const admin = kafka.admin()
      await admin.connect()
      try {
        const [offsets] = await admin.fetchOffsets({ groupId: `${topic}-group`, topics: [topic] })
        return new Map((offsets?.partitions ?? []).map((p) => [p.partition, Number(p.offset)]))
      } finally {
        await admin.disconnect()
      }
    },
    stop: async () => {
      if (live.alive()) proc.child.kill("SIGTERM")
      const timer = setTimeout(() => proc.child.kill("SIGKILL"), 20_000)
      await proc.exited
      clearTimeout(timer)
    },
    restart: async () => {
      await live.stop()
      proc = spawnProcessor()
      await waitReady()
    },
  }
  const waitReady = () =>
    eventually(
      `processor ${name} ready`,
      async () => {
        if (!live.alive()) throw new Error(`exited: ${log().slice(-2_000)}`)
        const ready = await get("/ready")
        // 404: a build from before /ready existed (RTOA_TEST_PROCESSOR_MAIN): its /health says up.
        const up = ready.status === 404 ? await get("/health") : ready
        return up.status === 200 ? true : undefined
      },
      90_000,
    )
  if (options.waitReady !== false) await waitReady()
  return live
}

const execFileAsync = promisify(execFile)

/** One record as kcat (librdkafka) sends it. */
export interface KcatRecord {
  readonly key: string | null
  readonly value: Buffer | null
  readonly headers?: Readonly<Record<string, string>>
}

/** Runs kcat with `input` on stdin; rejects with its output on a non-zero exit. */
const kcat = (args: ReadonlyArray<string>, input: string) =>
  new Promise<void>((resolve, reject) => {
    const child = spawn("kcat", [...args], { stdio: ["pipe", "ignore", "pipe"] })
    let err = ""
    child.stderr.on("data", (d: Buffer) => {
      err += d.toString()
    })
    child.once("error", reject)
    child.once("exit", (code) => (code === 0 ? resolve() : reject(new Error(`kcat exited ${code}: ${err}`))))
    child.stdin.end(input)
  })

/**
 * Sends records with Debian's kcat (librdkafka), each its own produce call in order, so on a
 * one-partition topic record i lands at offset start + i. kcat skips empty files and lines, so a
 * null or empty value goes on stdin as "key<TAB>" with -K (and -Z to make it a tombstone).
 */
export const kcatProduce = async (
  topic: string,
  records: ReadonlyArray<KcatRecord>,
  codec: (i: number) => string = () => "none",
) => {
  const dir = tempDir("kcat")
  for (const [i, r] of records.entries()) {
    const file = path.join(dir, `m${i}`)
    fs.writeFileSync(file, r.value ?? Buffer.alloc(0))
    const args = ["-P", "-b", brokers, "-t", topic, "-X", `compression.codec=${codec(i)}`]
    for (const [k, v] of Object.entries(r.headers ?? {})) args.push("-H", `${k}=${v}`)
    if (r.value === null || r.value.length === 0) {
      await kcat([...args, "-K", "\\t", ...(r.value === null ? ["-Z"] : [])], `${r.key ?? ""}\t\n`)
      continue
    }
    if (r.key !== null) args.push("-k", r.key)
    args.push(file)
    await execFileAsync("kcat", args, { timeout: 30_000 })
  }
}

/** Sends lines with kcat in ONE produce call (one record batch per partition), compressed. */
export const kcatProduceLines = async (topic: string, lines: ReadonlyArray<string>, codec: string) => {
  const file = path.join(tempDir("kcat-lines"), "lines")
  fs.writeFileSync(file, `${lines.join("\n")}\n`)
  await execFileAsync(
    "kcat",
    ["-P", "-b", brokers, "-t", topic, "-l", "-X", `compression.codec=${codec}`, "-X", "linger.ms=50", file],
    { timeout: 60_000, maxBuffer: 16 * 1024 * 1024 },
  )
}

/** The end offset of each partition of `topic`. */
export const endOffsets = async (kafka: Kafka, topic: string) => {
  const admin = kafka.admin()
  await admin.connect()
  try {
    return new Map((await admin.fetchTopicOffsets(topic)).map((p) => [p.partition, Number(p.high)]))
  } finally {
    await admin.disconnect()
  }
}
