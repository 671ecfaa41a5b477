import * as fs from "node:fs/promises"
import * as path from "node:path"
import { HomeDir } from "@rtoa/core"
import { Config, type ConfigError, Data, Duration, Effect, Either, Option, ParseResult, Schema } from "effect"
import * as YAML from "yaml"
import { ALERT_KINDS, type AlertKind, type AlertRule, isHttpUrl, ruleSchemas } from "./rules.ts"

/** The rules file does not parse or validate: a start-up error naming the file, rule and field. */
export class AlertRulesError extends Data.TaggedError("AlertRulesError")<{ readonly message: string }> {}

/**
 * Parses and validates a rules file's text (YAML, and so JSON too): a top-level `rules:` list.
 * An empty document means no rules. Every problem is reported, not only the first.
 */
export const parseRules = (
  text: string,
  file: string,
): Either.Either<ReadonlyArray<AlertRule>, AlertRulesError> => {
  const fail = (problems: ReadonlyArray<string>) =>
    Either.left(
      new AlertRulesError({
        message: `alert rules file ${file}: ${problems.length === 1 ? problems[0] : `\n  ${problems.join("\n  ")}`}`,
      }),
    )
  const doc = YAML.parseDocument(text, { uniqueKeys: true, prettyErrors: true })
  if (doc.errors.length > 0)
    return fail(
      doc.errors.map((e) => `not valid YAML: ${(e.message.split("\n")[0] ?? "").replace(/:$/, "")}`),
    )
  const root: unknown = doc.toJS()
  if (root === null || root === undefined) return Either.right([])
  if (typeof root !== "object" || Array.isArray(root) || !("rules" in root))
    return fail(["expected a mapping with a `rules:` list at the top level"])
  const rules: unknown = root.rules
  const extra = Object.keys(root).filter((k) => k !== "rules")
  if (extra.length > 0)
    return fail([`unexpected top-level key(s) ${extra.join(", ")}: only \`rules:\` is read`])
  if (rules === null || rules === undefined) return Either.right([])
  if (!Array.isArray(rules)) return fail(["`rules:` must be a list of rules"])

  const problems: Array<string> = []
  const decoded: Array<AlertRule> = []
  const seen = new Map<string, number>()
  rules.forEach((raw: unknown, i) => {
    const name = nameOf(raw)
    const first = name === undefined ? undefined : seen.get(name)
    if (first !== undefined)
      problems.push(`${label(raw, i)}: name: already used by rule #${first + 1}; names must be unique`)
    else if (name !== undefined) seen.set(name, i)
    const rule = decodeRule(raw, i)
    if (Either.isLeft(rule)) problems.push(...rule.left)
    else decoded.push(rule.right)
  })
  return problems.length > 0 ? fail(problems) : Either.right(decoded)
}

const nameOf = (raw: unknown): string | undefined => {
  const name = typeof raw === "object" && raw !== null && "name" in raw ? raw.name : undefined
  return typeof name === "string" ? name : undefined
}

const label = (raw: unknown, i: number): string => {
  const name = nameOf(raw)
  return name === undefined ? `rule #${i + 1}` : `rule "${name}" (#${i + 1})`
}

const isKind = (k: unknown): k is AlertKind =>
  typeof k === "string" && (ALERT_KINDS as ReadonlyArray<string>).includes(k)

const decodeRule = (raw: unknown, i: number): Either.Either<AlertRule, ReadonlyArray<string>> => {
  const where = label(raw, i)
  if (typeof raw !== "object" || raw === null || Array.isArray(raw))
    return Either.left([
      `${where}: expected a mapping with name, description, kind, for and the kind's fields`,
    ])
  const kind: unknown = "kind" in raw ? raw.kind : undefined
  if (!isKind(kind))
    return Either.left([
      `${where}: kind: expected one of ${ALERT_KINDS.join(", ")}${kind === undefined ? " (it is missing)" : `, got ${JSON.stringify(kind)}`}`,
    ])
  // Each kind has its own schema, so errors speak of that kind's fields only (no union noise).
  const schema: Schema.Schema<AlertRule, unknown> = ruleSchemas[kind] as unknown as Schema.Schema<
    AlertRule,
    unknown
  >
  return Schema.decodeUnknownEither(schema, { errors: "all", onExcessProperty: "error" })(raw).pipe(
    Either.mapLeft((e) =>
      ParseResult.ArrayFormatter.formatErrorSync(e).map(
        (issue) =>
          `${where}: ${issue.path.length === 0 ? "" : `${issue.path.join(".")}: `}${
            // The default says "is unexpected, expected: ..."; a typo'd key deserves plainer words.
            issue._tag === "Unexpected"
              ? issue.message.replace(/^is unexpected, expected:/, "unknown field; accepted:")
              : issue.message
          }`,
      ),
    ),
  )
}

/** Reads and validates the rules file; an empty path or a file that does not exist means no rules. */
export const loadRulesFile = (file: string): Effect.Effect<ReadonlyArray<AlertRule>, AlertRulesError> =>
  file === ""
    ? Effect.succeed([])
    : Effect.tryPromise({
        try: () => fs.readFile(file, "utf8"),
        catch: (e) => e as NodeJS.ErrnoException,
      }).pipe(
        Effect.map(Option.some),
        Effect.catchAll((e) =>
          e.code === "ENOENT"
            ? Effect.as(
                Effect.logWarning(`alert rules file ${file} does not exist: no alert rules`),
                Option.none<string>(),
              )
            : Effect.fail(
                new AlertRulesError({ message: `alert rules file ${file}: cannot be read (${e.message})` }),
              ),
        ),
        Effect.flatMap(
          Option.match({ onNone: () => Either.right([]), onSome: (text) => parseRules(text, file) }),
        ),
      )

export interface AlertsConfig {
  /** Absolute path of the rules file, or "" for none (ALERT_RULES_FILE, relative to RTOA_HOME). */
  readonly rulesFile: string
  readonly interval: Duration.Duration
  /** Webhooks that get every rule's firing and resolved transitions. */
  readonly webhookUrls: ReadonlyArray<string>
}

export const AlertsConfig: Config.Config<AlertsConfig> = Config.all({
  rulesFile: Config.all({
    home: HomeDir,
    file: Config.string("ALERT_RULES_FILE").pipe(Config.withDefault("")),
  }).pipe(Config.map(({ home, file }) => (file.trim() === "" ? "" : path.resolve(home, file.trim())))),
  interval: Config.integer("ALERT_EVALUATION_INTERVAL_MS").pipe(
    Config.withDefault(10_000),
    Config.validate({
      message: "ALERT_EVALUATION_INTERVAL_MS: expected a positive integer (milliseconds)",
      validation: (n) => n > 0,
    }),
    Config.map(Duration.millis),
  ),
  webhookUrls: Config.string("ALERT_WEBHOOK_URLS").pipe(
    Config.withDefault(""),
    Config.map((s) =>
      s
        .split(",")
        .map((u) => u.trim())
        .filter((u) => u.length > 0),
    ),
    Config.validate({
      message:
        "ALERT_WEBHOOK_URLS: expected a comma-separated list of http:// or https:// URLs (without user:password@)",
      validation: (us) => us.every(isHttpUrl),
    }),
  ),
})

/** What the Alerts runner needs, once read and validated. */
export interface AlertSettings {
  readonly rules: ReadonlyArray<AlertRule>
  readonly interval: Duration.Duration
  readonly webhookUrls: ReadonlyArray<string>
}

/** Reads the alert configuration (AlertsConfig by default) and the rules file; a bad value or file fails here. */
export const loadAlertSettings = (
  config: Config.Config<AlertsConfig> = AlertsConfig,
): Effect.Effect<AlertSettings, AlertRulesError | ConfigError.ConfigError> =>
  Effect.gen(function* () {
    const { rulesFile, interval, webhookUrls } = yield* config
    const rules = yield* loadRulesFile(rulesFile)
    return { rules, interval, webhookUrls }
  })
