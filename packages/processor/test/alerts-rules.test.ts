import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { describe, expect, it } from "@effect/vitest"
import { ConfigProvider, Duration, Effect, Either } from "effect"
import { ALERT_KINDS, formatDuration, parseDuration } from "../src/alerts/rules.ts"
import { AlertsConfig, loadAlertSettings, loadRulesFile, parseRules } from "../src/alerts/rules-file.ts"

const EXAMPLE = path.resolve(import.meta.dirname, "../../../infra/alerts.example.yaml")

const problems = (text: string) => {
  const r = parseRules(text, "rules.yaml")
  return Either.isLeft(r) ? r.left.message : "no error"
}

const withEnv = <A, E>(effect: Effect.Effect<A, E>, env: Record<string, string>) =>
  Effect.withConfigProvider(
    effect,
    ConfigProvider.fromMap(new Map(Object.entries({ RTOA_HOME: "/srv/rtoa", ...env }))),
  )

describe("alert rules file", () => {
  it("the example covers every kind and validates", () => {
    const rules = Either.getOrThrow(parseRules(fs.readFileSync(EXAMPLE, "utf8"), EXAMPLE))
    expect(new Set(rules.map((r) => r.kind))).toEqual(new Set(ALERT_KINDS))
    expect(rules.find((r) => r.name === "web_traffic_drop")).toEqual({
      name: "web_traffic_drop",
      description: "Web events per minute fell by more than half against the last 15 minutes",
      kind: "events_change",
      forMs: 120_000,
      webhooks: [],
      filter: { channel: "Web" },
      direction: "drop",
      percent: 50,
      baseline_minutes: 15,
      min_baseline: 10,
    })
  })

  it("fills defaults: min_baseline 10, freshness 5 s, no filter, no extra webhooks", () => {
    const rules = Either.getOrThrow(
      parseRules(
        `rules:
  - { name: a, description: d, kind: events_change, for: 0s, direction: either, percent: 30, baseline_minutes: 5 }
  - { name: b, description: d, kind: freshness, for: 1m30s }`,
        "f",
      ),
    )
    expect(rules[0]).toMatchObject({ min_baseline: 10, filter: {}, webhooks: [], forMs: 0 })
    expect(rules[1]).toMatchObject({ seconds: 5, forMs: 90_000 })
  })

  it("reads JSON as well", () => {
    const rules = parseRules(
      JSON.stringify({
        rules: [{ name: "lag", description: "", kind: "consumer_lag", for: "1m", seconds: 30 }],
      }),
      "rules.json",
    )
    expect(Either.getOrThrow(rules)).toMatchObject([{ name: "lag", seconds: 30, forMs: 60_000 }])
  })

  it("names the file, the rule, the field and the accepted form for every problem", () => {
    const message = problems(`rules:
  - name: web_drop
    description: x
    kind: events_change
    for: 2 minutes
    direction: down
    percent: -3
    baseline_minute: 3
    filter: { chanel: Web }
  - name: web_drop
    description: d
    kind: freshness
    for: 1m
  - name: dlq
    description: d
    kind: dead_letter_ratio
    for: 1m
    window: 0s
    ratio: 2
    webhooks: [ftp://example.invalid/x]
  - name: nope
    kind: latency
  - kind: users_below
`)
    expect(message).toContain("alert rules file rules.yaml:")
    expect(message).toContain(`rule "web_drop" (#1): for: expected a duration such as "30s", "2m" or "1h30m"`)
    expect(message).toContain(`rule "web_drop" (#1): direction: expected drop, spike or either`)
    expect(message).toContain(`rule "web_drop" (#1): percent: expected a number greater than 0`)
    expect(message).toContain(`rule "web_drop" (#1): baseline_minute: unknown field; accepted:`)
    expect(message).toContain(`rule "web_drop" (#1): baseline_minutes: is missing`)
    expect(message).toContain(`rule "web_drop" (#1): filter.chanel: unknown field; accepted: "channel"`)
    expect(message).toContain(`rule "web_drop" (#2): name: already used by rule #1`)
    expect(message).toContain(`rule "dlq" (#3): window: expected a duration above zero`)
    expect(message).toContain(`rule "dlq" (#3): ratio: expected a ratio from 0 to 1`)
    expect(message).toContain(
      `rule "dlq" (#3): webhooks.0: expected an http:// or https:// URL without user:password@`,
    )
    expect(message).toContain(`rule "nope" (#4): kind: expected one of events_change, users_below,`)
    expect(message).toContain(`rule #5: name: is missing`)
  })

  it("refuses YAML that does not parse, duplicate keys and a wrong top level", () => {
    expect(problems("rules: [ {name: x, ")).toMatch(/not valid YAML: .* at line 1, column \d+$/m)
    expect(problems("rules:\n  - name: a\n    name: b")).toContain("Map keys must be unique")
    expect(problems("- name: x")).toContain("expected a mapping with a `rules:` list")
    expect(problems("rules: 3")).toContain("`rules:` must be a list")
    expect(problems("rule: []")).toContain("expected a mapping with a `rules:` list")
    expect(problems("rules: []\nextra: 1")).toContain("unexpected top-level key(s) extra")
  })

  it.effect("an empty document, an empty list and a missing file mean no rules", () =>
    Effect.gen(function* () {
      expect(Either.getOrThrow(parseRules("", "f"))).toEqual([])
      expect(Either.getOrThrow(parseRules("# nothing yet\nrules:\n", "f"))).toEqual([])
      expect(yield* loadRulesFile("")).toEqual([])
      expect(yield* loadRulesFile(path.join(os.tmpdir(), "rtoa-no-such-rules.yaml"))).toEqual([])
    }),
  )

  it.effect("a file that cannot be read is a start-up error naming it", () =>
    Effect.gen(function* () {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), "rtoa-alerts-"))
      const error = yield* Effect.flip(loadRulesFile(dir))
      expect(error._tag).toBe("AlertRulesError")
      expect(error.message).toContain(`alert rules file ${dir}: cannot be read`)
      fs.rmSync(dir, { recursive: true })
    }),
  )

  it("durations: units combine; the shortest exact form comes back", () => {
    expect(parseDuration("2m")).toBe(120_000)
    expect(parseDuration("1h30m")).toBe(5_400_000)
    expect(parseDuration("250ms")).toBe(250)
    expect(parseDuration("0s")).toBe(0)
    for (const bad of ["", "2", "m", "2 m", "1.5m", "-1s", "2d"]) expect(parseDuration(bad)).toBeUndefined()
    expect(formatDuration(90_500)).toBe("1m30s500ms")
    expect(formatDuration(0)).toBe("0s")
  })
})

describe("alert config", () => {
  it.effect("defaults: no rules file, every 10 s, no webhooks", () =>
    Effect.gen(function* () {
      const config = yield* withEnv(AlertsConfig, {})
      expect(config).toEqual({ rulesFile: "", interval: Duration.millis(10_000), webhookUrls: [] })
    }),
  )

  it.effect("resolves the file against RTOA_HOME and splits the webhook list", () =>
    Effect.gen(function* () {
      const config = yield* withEnv(AlertsConfig, {
        ALERT_RULES_FILE: "infra/alerts.yaml",
        ALERT_EVALUATION_INTERVAL_MS: "2500",
        ALERT_WEBHOOK_URLS: " http://127.0.0.1:9000/a , https://hooks.example.com/b,",
      })
      expect(config.rulesFile).toBe("/srv/rtoa/infra/alerts.yaml")
      expect(Duration.toMillis(config.interval)).toBe(2_500)
      expect(config.webhookUrls).toEqual(["http://127.0.0.1:9000/a", "https://hooks.example.com/b"])
    }),
  )

  it.effect("a bad value names its variable and the accepted form", () =>
    Effect.gen(function* () {
      const error = (env: Record<string, string>) =>
        Effect.map(Effect.flip(withEnv(AlertsConfig, env)), (e) => String(e))
      expect(yield* error({ ALERT_EVALUATION_INTERVAL_MS: "0" })).toContain(
        "ALERT_EVALUATION_INTERVAL_MS: expected a positive integer (milliseconds)",
      )
      for (const urls of [
        "http://ok.example.com, ftp://x",
        "https://user:secret@hooks.example.com/x",
        "not a url",
      ])
        expect(yield* error({ ALERT_WEBHOOK_URLS: urls })).toContain(
          "ALERT_WEBHOOK_URLS: expected a comma-separated list of http:// or https:// URLs (without user:password@)",
        )
    }),
  )

  it.effect("loadAlertSettings reads the config and the rules file, and fails on a bad file", () =>
    Effect.gen(function* () {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), "rtoa-alerts-"))
      fs.copyFileSync(EXAMPLE, path.join(dir, "ok.yaml"))
      fs.writeFileSync(path.join(dir, "bad.yaml"), "rules:\n  - name: x\n    kind: freshness\n")
      const ok = yield* withEnv(loadAlertSettings(), { RTOA_HOME: dir, ALERT_RULES_FILE: "ok.yaml" })
      expect(ok.rules).toHaveLength(6)
      const bad = yield* Effect.flip(
        withEnv(loadAlertSettings(), { RTOA_HOME: dir, ALERT_RULES_FILE: "bad.yaml" }),
      )
      expect(String(bad.message)).toContain(`alert rules file ${path.join(dir, "bad.yaml")}:`)
      expect(String(bad.message)).toContain(`rule "x" (#1): description: is missing`)
      fs.rmSync(dir, { recursive: true })
    }),
  )
})
