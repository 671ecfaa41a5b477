import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http"
import * as path from "node:path"
import { NodeRuntime } from "@effect/platform-node"
import { findWorkspaceRoot, readMigrations } from "@rtoa/core"
import { Session } from "chdb"
import { Data, Effect } from "effect"
import { type EngineSettings, peerStatements } from "./schema.ts"

/**
 * The peer process: one chDB engine in its own data directory running ClickHouse's Kafka table
 * engine (background streaming into the materialized views), plus a tiny HTTP endpoint for the
 * bench (GET /health once the tables exist, POST /query?format=F with SQL in the body).
 * Configured by PEER_* variables; stops on SIGTERM/SIGINT.
 */

class PeerError extends Data.TaggedError("PeerError")<{ readonly message: string }> {}

const env = (name: string): string => {
  const v = process.env[name]
  if (v === undefined || v === "") throw new Error(`${name} is required`)
  return v
}

const run = (session: Session, sql: string) =>
  Effect.tryPromise({
    try: () => session.queryAsync(sql, { format: "TSV" }),
    catch: (e) =>
      new PeerError({ message: `${sql.slice(0, 60)}...: ${e instanceof Error ? e.message : String(e)}` }),
  })

const body = (req: IncomingMessage) =>
  new Promise<string>((resolve, reject) => {
    let text = ""
    req.setEncoding("utf8")
    req.on("data", (c: string) => {
      text += c
    })
    req.on("end", () => resolve(text))
    req.on("error", reject)
  })

const handler = (session: Session) => async (req: IncomingMessage, res: ServerResponse) => {
  const url = new URL(req.url ?? "/", "http://peer")
  if (req.method === "GET" && url.pathname === "/health") return void res.end("ok\n")
  if (req.method !== "POST" || url.pathname !== "/query") return void res.writeHead(404).end()
  const format = url.searchParams.get("format") ?? "TSV"
  try {
    const result = await session.queryAsync(await body(req), {
      format: /^[A-Za-z]+$/.test(format) ? format : "TSV",
    })
    res.end(result.text())
  } catch (e) {
    res.writeHead(400).end(`${e instanceof Error ? e.message : String(e)}\n`)
  }
}

const program = Effect.gen(function* () {
  const dataPath = env("PEER_DATA_PATH")
  const port = Number(env("PEER_PORT"))
  const settings = JSON.parse(process.env.PEER_SETTINGS ?? "{}") as EngineSettings
  const session = yield* Effect.acquireRelease(
    Effect.try({ try: () => new Session(dataPath), catch: (e) => new PeerError({ message: String(e) }) }),
    (s) => Effect.sync(() => s.close()),
  )
  const migrations = yield* readMigrations(path.join(findWorkspaceRoot(), "db"))
  for (const m of migrations) for (const sql of m.statements) yield* run(session, sql)
  const statements = peerStatements({
    brokers: env("PEER_BROKERS"),
    topic: env("PEER_TOPIC"),
    group: env("PEER_GROUP"),
    settings,
  })
  for (const sql of statements) yield* run(session, sql)
  // Released first: stop streaming (detach the engine) before the session closes.
  yield* Effect.addFinalizer(() => run(session, "DETACH TABLE kafka_events").pipe(Effect.ignore))
  yield* Effect.acquireRelease(
    Effect.async<Server, PeerError>((resume) => {
      const server = createServer((req, res) => void handler(session)(req, res))
      server.once("error", (e) => resume(Effect.fail(new PeerError({ message: e.message }))))
      server.listen(port, "127.0.0.1", () => resume(Effect.succeed(server)))
    }),
    (server) => Effect.async<void>((resume) => void server.close(() => resume(Effect.void))),
  )
  yield* Effect.logInfo(`peer ready on 127.0.0.1:${port} (${dataPath}, ${JSON.stringify(settings)})`)
  return yield* Effect.never
})

NodeRuntime.runMain(Effect.scoped(program))
