import * as fs from "node:fs"
import * as path from "node:path"
import { parseEnv } from "node:util"
import { describe, expect, it } from "@effect/vitest"
import { ClickHouseConfig, EndpointConfig, KafkaConfig, ProcessorConfig } from "@rtoa/core"
import { Config, ConfigProvider, Effect } from "effect"
import { parse as parseYaml } from "yaml"

/**
 * The processor in docker mode (profile `processor` of infra/docker-compose.yml, image from
 * packages/processor/Dockerfile): no Docker runs here, so this checks the files. The service must
 * scale with `--scale processor=N` (no container_name, no fixed host port), build from the
 * Dockerfile, wait for a healthy broker and ClickHouse and for the migrations, and read the same
 * .env as local mode, only the container's addresses set over it. The image: multi-stage on node:<.nvmrc>-slim, a
 * non-root user, a health check on /ready, no secret set in it, and a context that leaves .env out.
 */

const root = path.resolve(import.meta.dirname, "../../..")
const read = (file: string) => fs.readFileSync(path.join(root, file), "utf8")

type PortEntry = string | { readonly target?: number; readonly published?: string | number }
interface Service {
  readonly build?: { readonly context?: string; readonly dockerfile?: string }
  readonly image?: string
  readonly profiles?: ReadonlyArray<string>
  readonly container_name?: string
  readonly hostname?: string
  readonly ports?: ReadonlyArray<PortEntry>
  readonly depends_on?: Readonly<Record<string, { readonly condition?: string }>>
  readonly env_file?: ReadonlyArray<{ readonly path: string; readonly required?: boolean }>
  readonly environment?: Readonly<Record<string, string>>
  readonly command?: ReadonlyArray<string>
  readonly stop_grace_period?: string
}
// merge: compose resolves `<<: *anchor` merge keys (processor-ddl extends processor).
const compose = parseYaml(read("infra/docker-compose.yml"), { merge: true }) as {
  services: Readonly<Record<string, Service>>
}
const service = (name: string) => {
  const s = compose.services[name]
  if (s === undefined) throw new Error(`infra/docker-compose.yml has no service ${name}`)
  return s
}
const processor = service("processor")
const ddl = service("processor-ddl")

/** The host port a compose port entry fixes, or undefined when the engine picks one. */
export const fixedHostPort = (
  entry: Service["ports"] extends ReadonlyArray<infer P> | undefined ? P : never,
) => {
  if (typeof entry !== "string") return entry.published === undefined ? undefined : String(entry.published)
  const parts = entry.replace(/\/(tcp|udp)$/, "").split(":")
  // CONTAINER | HOST:CONTAINER | IP:HOST:CONTAINER (an empty HOST: any free port)
  const host = parts.length === 1 ? "" : (parts.at(-2) ?? "")
  return host === "" ? undefined : host
}

const dockerfilePath = "packages/processor/Dockerfile"
const dockerfile = read(dockerfilePath)
/** Instructions, with continuation lines joined and comments dropped. */
const instructions = dockerfile
  .replace(/\\\n/g, " ")
  .split("\n")
  .map((l) => l.trim())
  .filter((l) => l !== "" && !l.startsWith("#"))
const finalStage = instructions.slice(instructions.findLastIndex((l) => l.startsWith("FROM ")))
/** The runtime stage's ENV settings (NAME=value pairs; values here hold no spaces). */
const imageEnv = finalStage
  .filter((l) => l.startsWith("ENV "))
  .flatMap((l) => [...l.matchAll(/([A-Z_][A-Z0-9_]*)=(\S+)/g)].map((m) => [m[1] ?? "", m[2] ?? ""] as const))
const template = parseEnv(read(".env_template")) as Readonly<Record<string, string>>
const templateNames = new Set(Object.keys(template))

describe("compose service `processor`", () => {
  it("scales: no container_name, no hostname, no fixed host port", () => {
    expect(fixedHostPort("127.0.0.1:8124:8124")).toBe("8124")
    expect(fixedHostPort("8124:8124")).toBe("8124")
    expect(fixedHostPort("127.0.0.1::8124")).toBeUndefined()
    expect(fixedHostPort("8124")).toBeUndefined()
    for (const s of [processor, ddl]) {
      expect(s.container_name).toBeUndefined()
      expect(s.hostname).toBeUndefined()
      for (const p of s.ports ?? []) expect(fixedHostPort(p), JSON.stringify(p)).toBeUndefined()
    }
    // The operator endpoint is published, on a free loopback port per replica.
    expect(processor.ports).toEqual(["127.0.0.1::8124"])
  })

  it("builds the processor's image from the repository root, in its own profile", () => {
    expect(processor.build?.dockerfile).toBe(dockerfilePath)
    expect(path.resolve(root, "infra", processor.build?.context ?? "?")).toBe(root)
    expect(ddl.build).toEqual(processor.build)
    expect(ddl.image).toBe(processor.image)
    expect(processor.profiles).toEqual(["processor"])
    expect(ddl.profiles).toEqual(["processor"])
    expect(ddl.command).toEqual(["node", "packages/cli/src/main.ts", "ddl"])
    expect(fs.existsSync(path.join(root, ddl.command?.[1] ?? "?"))).toBe(true)
  })

  it("starts after a healthy broker and ClickHouse and the migrations", () => {
    expect(processor.depends_on).toEqual({
      redpanda: { condition: "service_healthy" },
      clickhouse: { condition: "service_healthy" },
      "processor-ddl": { condition: "service_completed_successfully" },
    })
    expect(ddl.depends_on).toEqual({ clickhouse: { condition: "service_healthy" } })
  })

  it("reads the same .env as local mode, with only what differs in a container set over it", () => {
    expect(processor.env_file).toEqual([{ path: "../.env", required: false }])
    expect(path.resolve(root, "infra", "../.env")).toBe(path.join(root, ".env"))
    const env = processor.environment ?? {}
    expect(Object.keys(env).filter((k) => !templateNames.has(k))).toEqual([])
    expect(Object.keys(env).sort()).toEqual(
      [
        "INFRA_MODE",
        "KAFKA_BROKERS",
        "CLICKHOUSE_URL",
        "PROCESSOR_CONSUMERS",
        "PROCESSOR_HTTP_HOST",
        "PROCESSOR_HTTP_PORT",
        "DATA_DIR",
      ].sort(),
    )
    expect(processor.ports?.[0]).toMatch(new RegExp(`:${env.PROCESSOR_HTTP_PORT}$`))
    const grace = Number(/^(\d+)s$/.exec(processor.stop_grace_period ?? "")?.[1])
    expect(grace * 1_000).toBeGreaterThan(Number(template.SHUTDOWN_TIMEOUT_MS))
  })

  it.effect("with .env_template as .env, the processor's own config reads the container's settings", () =>
    Effect.gen(function* () {
      // Precedence as compose applies it: the image's ENV, then env_file, then environment.
      const settings = new Map([
        ...imageEnv,
        ...Object.entries(template),
        ...Object.entries(processor.environment ?? {}),
      ])
      const [kafka, ch, proc, endpoint] = yield* Effect.withConfigProvider(
        Config.all([KafkaConfig, ClickHouseConfig, ProcessorConfig, EndpointConfig]),
        ConfigProvider.fromMap(settings),
      )
      expect(kafka.brokers).toEqual(["redpanda:9092"])
      expect(kafka.topic).toBe(template.KAFKA_TOPIC)
      expect(ch._tag === "Http" && ch.url).toBe("http://clickhouse:8123")
      expect(proc.consumers).toBe(1)
      expect(endpoint.host).toBe("0.0.0.0")
      expect(endpoint.port).toBe(8124)
      // No token set: each container generates its own under DATA_DIR, made for the non-root user.
      expect(endpoint.token).toBeUndefined()
      expect(endpoint.tokenFile).toBe("/data/processor-http.token")
      expect(finalStage).toContain("RUN mkdir -p /data && chown node:node /data")
      expect(finalStage).toContain("USER node")
    }),
  )
})

describe(dockerfilePath, () => {
  it("is multi-stage on node:<.nvmrc>-slim and runs the processor as a non-root user", () => {
    const node = read(".nvmrc").trim()
    expect(instructions).toContain(`ARG NODE_VERSION=${node}`)
    const froms = instructions.filter((l) => l.startsWith("FROM "))
    expect(froms.length).toBeGreaterThan(1)
    expect(froms[0]).toBe(`FROM node:\${NODE_VERSION}-slim AS base`)
    const users = finalStage.filter((l) => l.startsWith("USER "))
    expect(users).toHaveLength(1)
    expect(users[0]).not.toMatch(/^USER (root|0)(:|$)/)
    const cmd = finalStage.find((l) => l.startsWith("CMD "))
    expect(finalStage.indexOf(cmd ?? "")).toBeGreaterThan(finalStage.indexOf(users[0] ?? ""))
    expect(cmd).toContain('"packages/processor/src/main.ts"')
  })

  it("checks health on /ready at the endpoint's port", () => {
    const check = finalStage.find((l) => l.startsWith("HEALTHCHECK "))
    expect(check).toContain("/ready")
    expect(check).toContain("process.env.PROCESSOR_HTTP_PORT ?? 8124")
    expect(finalStage).toContain("EXPOSE 8124")
  })

  it("sets no secret in the image and leaves .env out of the build context", () => {
    const set = instructions
      .filter((l) => /^(ENV|ARG) /.test(l))
      .flatMap((l) => [...l.slice(4).matchAll(/([A-Z_][A-Z0-9_]*)=/g)].map((m) => m[1] ?? ""))
    expect(set).toContain("INFRA_MODE")
    expect(set.filter((k) => /PASSWORD|TOKEN|SECRET|KEY|USERNAME/.test(k))).toEqual([])
    const ignored = read(".dockerignore").split("\n")
    for (const entry of [".env", "**/node_modules", ".data", ".git"]) expect(ignored).toContain(entry)
  })
})
