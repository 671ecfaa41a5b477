import * as fs from "node:fs"
import * as https from "node:https"
import * as os from "node:os"
import * as path from "node:path"
import { inspect } from "node:util"
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { makeClickHouse } from "../src/clickhouse.ts"
import { ClickHouseConfig } from "../src/config.ts"
import { configProviderFromEnv } from "../src/env.ts"
import { makePki } from "./support/pki.ts"

/**
 * ClickHouse over https with a user, a password and a private CA, as the programs configure it.
 * No ClickHouse server can run here, so the far end is a stand-in speaking just enough of its HTTP
 * interface: `SELECT 1` answered for the right Basic credentials, and the server's own
 * AUTHENTICATION_FAILED reply (HTTP 403, code 516) for anything else. What is under test is our
 * side: the CA is trusted, the credentials travel, and no message or log line shows the password.
 */

const user = "rtoa_writer"
const password = "ch-Pa55-never-printed"

const standIn = (key: string, cert: string) =>
  Effect.acquireRelease(
    Effect.async<{ server: https.Server; port: number }>((resume) => {
      // ClickHouse takes either; @clickhouse/client sends the X-ClickHouse-* pair once `tls` is set.
      const basic = `Basic ${Buffer.from(`${user}:${password}`).toString("base64")}`
      const server = https.createServer({ key, cert }, (req, res) => {
        req.resume()
        const h = req.headers
        const authorized =
          h.authorization === basic || (h["x-clickhouse-user"] === user && h["x-clickhouse-key"] === password)
        if (!authorized) {
          res.writeHead(403, { "X-ClickHouse-Exception-Code": "516" })
          res.end(
            `Code: 516. DB::Exception: ${user}: Authentication failed: password is incorrect, or there is no user with such name. (AUTHENTICATION_FAILED) (version 25.8.1.1)\n`,
          )
          return
        }
        res.writeHead(200, { "Content-Type": "application/x-ndjson", "X-ClickHouse-Format": "JSONEachRow" })
        res.end('{"ok":1}\n')
      })
      server.listen(0, "127.0.0.1", () => {
        const address = server.address()
        resume(Effect.succeed({ server, port: typeof address === "object" && address ? address.port : 0 }))
      })
    }),
    ({ server }) => Effect.async<void>((resume) => void server.close(() => resume(Effect.void))),
  )

describe("ClickHouse over https", () => {
  it.scoped("trusts CLICKHOUSE_CA_FILE, sends the user and password, and never prints the password", () =>
    Effect.gen(function* () {
      const dir = yield* Effect.acquireRelease(
        Effect.sync(() => fs.mkdtempSync(path.join(os.tmpdir(), "rtoa-ch-https-"))),
        (d) => Effect.sync(() => fs.rmSync(d, { recursive: true, force: true })),
      )
      const pki = yield* makePki(dir)
      const { port } = yield* standIn(
        fs.readFileSync(pki.serverKey, "utf8"),
        fs.readFileSync(pki.serverCert, "utf8"),
      )
      const env = {
        CLICKHOUSE_URL: `https://127.0.0.1:${port}`,
        CLICKHOUSE_USER: user,
        CLICKHOUSE_PASSWORD: password,
        CLICKHOUSE_CA_FILE: pki.ca,
      }
      const connect = (vars: Record<string, string>) =>
        Effect.scoped(
          Effect.flatMap(
            Effect.withConfigProvider(ClickHouseConfig, configProviderFromEnv(vars, dir)),
            makeClickHouse,
          ),
        )
      const logged: Array<unknown> = []
      const original = { error: console.error, warn: console.warn }
      yield* Effect.acquireRelease(
        Effect.sync(() => {
          console.error = (...args: Array<unknown>) => void logged.push(...args)
          console.warn = (...args: Array<unknown>) => void logged.push(...args)
        }),
        () =>
          Effect.sync(() => {
            console.error = original.error
            console.warn = original.warn
          }),
      )

      const ok = yield* connect(env)
      expect(ok.mode).toBe("Http")

      const wrong = yield* Effect.flip(connect({ ...env, CLICKHOUSE_PASSWORD: `x${password}` }))
      expect(wrong).toMatchObject({ _tag: "ClickHouseError", reason: "Schema", code: 516 })
      expect(wrong.message).toMatch(/Authentication failed.*check CLICKHOUSE_USER and CLICKHOUSE_PASSWORD/s)

      const untrusted = yield* Effect.flip(connect({ ...env, CLICKHOUSE_CA_FILE: pki.otherCa }))
      expect(untrusted.message).toMatch(/self[- ]signed certificate|unable to (get local issuer|verify)/)
      expect(untrusted.message).toMatch(/set CLICKHOUSE_CA_FILE to the PEM CA that signed it/)

      for (const e of [wrong, untrusted])
        expect(`${e.message} ${String(e)} ${inspect(e, { depth: 9 })}`).not.toContain(password)
      expect(inspect(logged, { depth: 9 })).not.toContain(password)
    }),
  )
})
