/**
 * What becomes of a Grafana panel's SQL before ClickHouse sees it, for the versions pinned in
 * infra/docker-compose.yml: Grafana OSS 12.3 (dashboards on Scenes) and grafana-clickhouse-datasource
 * 4.15.0. Three steps, in the plugin's order (CHDatasource.applyTemplateVariables, then the backend):
 *
 * 1. `$__conditionalAll(condition, $var)`, in the browser (plugin src/data/CHDatasource.ts,
 *    applyConditionalAll + getMacroArgs): from the LAST occurrence backwards, the two arguments are
 *    split at the first top-level comma (parentheses counted, nothing else); the variable is the
 *    name after `$` / inside `${}` of the second one; when its current value, `.toString()`ed, is
 *    '' or '$__all' the whole macro becomes `1=1`, otherwise the first argument verbatim. The
 *    replacement is JavaScript's String.replace of the macro text (first occurrence).
 * 2. Template variables, in the browser (Grafana's templateSrv = @grafana/scenes sceneInterpolator
 *    with the datasource's `format` function): VARIABLE_REGEX finds `$name`, `[[name:fmt]]` and
 *    `${name:fmt}`; scoped variables (`__interval_ms`, set per query by Grafana) come
 *    first, then dashboard variables, then the macros `__from` / `__to` (epoch ms). An unknown name
 *    is left as written (so `$__timeFilter` and the other plugin macros pass through). A named
 *    format uses the scenes formatRegistry (`singlequote`: each value in '…' with ' escaped as \',
 *    joined by ','); no format uses the plugin's `format`: an array becomes 'a','b' (no escaping),
 *    anything else is inserted as is. A multi-value variable set to All (no custom all value) stands
 *    for every option's value.
 * 3. Macros, in the plugin backend (sqlds -> grafana-plugin-sdk-go data/sqlutil.Interpolate with
 *    the plugin's pkg/macros Macros over sqlutil.DefaultMacros): macro names longest first; each
 *    `\$__name\b` match takes arguments only when `(` follows immediately, up to the balancing `)`,
 *    split at depth-1 commas and trimmed; an unclosed `(` is an error; every occurrence of the
 *    matched text is replaced by the macro's output:
 *      $__timeFilter(c)      c >= toDateTime(<from s>) AND c <= toDateTime(<to s>)
 *      $__timeFilter_ms(c)   the same with fromUnixTimestamp64Milli(<ms>)
 *      $__fromTime / $__toTime          toDateTime(<s>)   (…_ms: fromUnixTimestamp64Milli(<ms>))
 *      $__dateFilter(c)      c >= toDate('YYYY-MM-DD') AND c <= toDate('YYYY-MM-DD')
 *      $__dateTimeFilter(d, t) / $__dt(d, t)   (date filter) AND (time filter)
 *      $__timeInterval(c)    toStartOfInterval(toDateTime(c), INTERVAL <s> second), s = max(⌊interval s⌋, 1)
 *      $__timeInterval_ms(c) toStartOfInterval(toDateTime64(c, 3), INTERVAL <ms> millisecond)
 *      $__interval_s         <s>
 *      SDK defaults the plugin does not override: $__interval, $__interval_ms, $__timeFrom(c),
 *      $__timeTo(c) (RFC 3339 literals), $__timeGroup, $__table, $__column.
 *    Times are whole seconds (Go's time.Unix) of the query range; dates are UTC (the container's zone).
 *
 * Sources, read in the upstream repositories (the 4.x code, not a checkout of the 4.15.0 tag, which
 * could not be fetched here): grafana/clickhouse-datasource pkg/macros/macros.go (sqlds v4) and
 * src/data/CHDatasource.ts; grafana/grafana-plugin-sdk-go data/sqlutil/macros.go (parseArgs) and its
 * macros_test.go; grafana/scenes packages/scenes/src/variables/interpolation/{sceneInterpolator,
 * formatRegistry}.ts and variables/macros/index.ts; the plugin's docs (query-editor.md, Macros;
 * template-variables.md, $__conditionalAll). From 4.19.0 the plugin expands macros with
 * grafana/macropro instead of sqlutil: re-read this file when the pin moves past 4.18.
 *
 * Anything the dashboard does not use and this file does not model (custom all values, other
 * formats, other Grafana macros) throws: a test must not pass on an expansion that is guessed.
 */

export interface VariableState {
  readonly name: string
  readonly multi: boolean
  readonly includeAll: boolean
  /** The selection: values, or ["$__all"] for All. */
  readonly current: ReadonlyArray<string>
  /** The options the variable's query returned (what All stands for). */
  readonly options: ReadonlyArray<string>
}

export interface QueryContext {
  readonly fromMs: number
  readonly toMs: number
  readonly intervalMs: number
  readonly variables: ReadonlyArray<VariableState>
}

const ALL = "$__all"

// ---- 1. $__conditionalAll (plugin frontend) ----------------------------------------------------

/** getMacroArgs: the arguments of the call whose `(` is at argsIndex; [] when unbalanced. */
const getMacroArgs = (query: string, argsIndex: number): Array<string> => {
  const args: Array<string> = []
  const re = /\(|\)|,/g
  let bracketCount = 0
  let lastArgEndIndex = 1
  const argsSubstr = query.substring(argsIndex, query.length)
  for (let m = re.exec(argsSubstr); m !== null; m = re.exec(argsSubstr)) {
    const foundNode = m[0]
    if (foundNode === "(") bracketCount++
    else if (foundNode === ")") bracketCount--
    if (foundNode === "," && bracketCount === 1) {
      args.push(argsSubstr.substring(lastArgEndIndex, re.lastIndex - 1))
      lastArgEndIndex = re.lastIndex
    }
    if (bracketCount === 0) {
      args.push(argsSubstr.substring(lastArgEndIndex, re.lastIndex - 1))
      return args
    }
  }
  return []
}

export const applyConditionalAll = (rawQuery: string, variables: ReadonlyArray<VariableState>): string => {
  if (!rawQuery) return rawQuery
  const macro = "$__conditionalAll("
  let query = rawQuery
  let macroIndex = query.lastIndexOf(macro)
  while (macroIndex !== -1) {
    const params = getMacroArgs(query, macroIndex + macro.length - 1)
    const [condition, variableParam] = params
    if (params.length !== 2 || condition === undefined || variableParam === undefined) return query
    const templateVar = /(?<=\$\{)[\w\d]+(?=\})|(?<=\$)[\w\d]+/.exec(variableParam.trim())
    let phrase = condition
    if (templateVar) {
      const value = variables.find((v) => v.name === templateVar[0])?.current.toString()
      if (value === "" || value === ALL) phrase = "1=1"
    }
    query = query.replace(`${macro}${condition},${variableParam})`, phrase)
    macroIndex = query.lastIndexOf(macro)
  }
  return query
}

// ---- 2. Template variables (Grafana / scenes) --------------------------------------------------

const VARIABLE_REGEX = /\$(\w+)|\[\[(\w+?)(?::(\w+))?\]\]|\${(\w+)(?:\.([^:^}]+))?(?::([^}]+))?}/g

type Value = string | number | ReadonlyArray<string>

/** The plugin's `format` (CHDatasource.format), used when a reference names no format. */
const datasourceFormat = (value: Value): string =>
  Array.isArray(value) ? `'${value.join("','")}'` : String(value)

const quoteEach = (value: Value, quote: string) => {
  const one = (v: string) => `${quote}${v.replaceAll(quote, `\\${quote}`)}${quote}`
  return Array.isArray(value) ? value.map(one).join(",") : one(String(value))
}

/** The scenes formatRegistry entries this file models. */
const formats: Record<string, (value: Value) => string> = {
  singlequote: (value) => quoteEach(value, "'"),
  doublequote: (value) => quoteEach(value, '"'),
  csv: (value) => (Array.isArray(value) ? value.join(",") : String(value)),
  pipe: (value) => (Array.isArray(value) ? value.join("|") : String(value)),
  raw: (value) => String(value),
}

const variableValue = (v: VariableState): Value => {
  const all = v.current.length === 1 && v.current[0] === ALL
  if (all) {
    if (!v.includeAll) throw new Error(`variable ${v.name} is set to All but has no All option`)
    return v.options
  }
  if (v.multi) return v.current
  const [single] = v.current
  if (single === undefined || v.current.length !== 1)
    throw new Error(`variable ${v.name}: a single-value variable needs exactly one value`)
  return single
}

export const interpolateVariables = (sql: string, ctx: QueryContext): string =>
  sql.replace(
    VARIABLE_REGEX,
    (
      match: string,
      var1: string | undefined,
      var2: string | undefined,
      fmt2: string | undefined,
      var3: string | undefined,
      fieldPath: string | undefined,
      fmt3: string | undefined,
    ) => {
      const name = var1 ?? var2 ?? var3 ?? ""
      const fmt = fmt2 ?? fmt3
      if (fieldPath !== undefined) throw new Error(`${match}: field paths are not modelled`)
      let value: Value
      const variable = ctx.variables.find((v) => v.name === name)
      // Scoped per query by Grafana: __interval_ms (a number); __interval's text form is not modelled.
      if (name === "__interval_ms") value = ctx.intervalMs
      else if (name === "__interval") throw new Error(`${match}: $__interval's text form is not modelled`)
      else if (variable !== undefined) value = variableValue(variable)
      else if (name === "__from" || name === "__to") value = name === "__from" ? ctx.fromMs : ctx.toMs
      else if (
        [
          "__all_variables",
          "__url_time_range",
          "__value",
          "__data",
          "__series",
          "__field",
          "__url",
          "__timezone",
        ].includes(name)
      )
        throw new Error(`${match}: Grafana macro ${name} is not modelled`)
      else return match
      if (fmt === undefined) return datasourceFormat(value)
      const formatter = formats[fmt]
      if (formatter === undefined) throw new Error(`${match}: variable format ${fmt} is not modelled`)
      return formatter(value)
    },
  )

// ---- 3. Macros (plugin backend: sqlds / sdk sqlutil.Interpolate) ------------------------------

type Macro = (ctx: QueryContext, args: ReadonlyArray<string> | undefined) => string

const seconds = (ms: number) => Math.floor(ms / 1_000)
const toDateTime = (ms: number) => `toDateTime(${seconds(ms)})`
const toDateTime64 = (ms: number) => `fromUnixTimestamp64Milli(${Math.floor(ms)})`
const toDate = (ms: number) => `toDate('${new Date(ms).toISOString().slice(0, 10)}')`
const rfc3339 = (ms: number) => new Date(seconds(ms) * 1_000).toISOString().replace(".000Z", "Z")

const arity =
  (n: number, name: string, f: (ctx: QueryContext, args: ReadonlyArray<string>) => string): Macro =>
  (ctx, args) => {
    if (args === undefined || args.length !== n)
      throw new Error(
        `$__${name}: unexpected number of arguments: expected ${n}, received ${args?.length ?? 0}`,
      )
    return f(ctx, args)
  }

const intervalSeconds = (ctx: QueryContext) => Math.max(Math.trunc(ctx.intervalMs / 1_000), 1)

const filter = (col: string, from: string, to: string) => `${col} >= ${from} AND ${col} <= ${to}`

/** pkg/macros Macros of the plugin over sqlutil.DefaultMacros. */
const macros: Record<string, Macro> = {
  // grafana-plugin-sdk-go sqlutil.DefaultMacros (Grafana's frontend replaces $__interval and
  // $__interval_ms before the backend could see them)
  interval: () => {
    throw new Error("$__interval is not modelled")
  },
  interval_ms: (ctx) => String(ctx.intervalMs),
  timeFrom: arity(1, "timeFrom", (ctx, [c]) => `${c} >= '${rfc3339(ctx.fromMs)}'`),
  timeTo: arity(1, "timeTo", (ctx, [c]) => `${c} <= '${rfc3339(ctx.toMs)}'`),
  timeGroup: () => {
    throw new Error("$__timeGroup (the SDK's datepart default) is not modelled")
  },
  table: () => {
    throw new Error("$__table is not modelled")
  },
  column: () => {
    throw new Error("$__column is not modelled")
  },
  // grafana-clickhouse-datasource pkg/macros
  fromTime: (ctx) => toDateTime(ctx.fromMs),
  toTime: (ctx) => toDateTime(ctx.toMs),
  fromTime_ms: (ctx) => toDateTime64(ctx.fromMs),
  toTime_ms: (ctx) => toDateTime64(ctx.toMs),
  timeFilter: arity(1, "timeFilter", (ctx, [c = ""]) =>
    filter(c, toDateTime(ctx.fromMs), toDateTime(ctx.toMs)),
  ),
  timeFilter_ms: arity(1, "timeFilter_ms", (ctx, [c = ""]) =>
    filter(c, toDateTime64(ctx.fromMs), toDateTime64(ctx.toMs)),
  ),
  dateFilter: arity(1, "dateFilter", (ctx, [c = ""]) => filter(c, toDate(ctx.fromMs), toDate(ctx.toMs))),
  dateTimeFilter: arity(
    2,
    "dateTimeFilter",
    (ctx, [d = "", t = ""]) =>
      `(${filter(d, toDate(ctx.fromMs), toDate(ctx.toMs))}) AND (${filter(t, toDateTime(ctx.fromMs), toDateTime(ctx.toMs))})`,
  ),
  dt: arity(
    2,
    "dt",
    (ctx, [d = "", t = ""]) =>
      `(${filter(d, toDate(ctx.fromMs), toDate(ctx.toMs))}) AND (${filter(t, toDateTime(ctx.fromMs), toDateTime(ctx.toMs))})`,
  ),
  timeInterval: arity(
    1,
    "timeInterval",
    (ctx, [c]) => `toStartOfInterval(toDateTime(${c}), INTERVAL ${intervalSeconds(ctx)} second)`,
  ),
  timeInterval_ms: arity(
    1,
    "timeInterval_ms",
    (ctx, [c]) =>
      `toStartOfInterval(toDateTime64(${c}, 3), INTERVAL ${Math.max(Math.trunc(ctx.intervalMs), 1)} millisecond)`,
  ),
  interval_s: (ctx) => String(intervalSeconds(ctx)),
}

/** sqlutil parseArgs: a bracketed list right at the start, or none; length -1 when unclosed. */
export const parseArgs = (
  s: string,
): { readonly args: Array<string> | undefined; readonly length: number } => {
  if (!s.startsWith("(")) return { args: undefined, length: 0 }
  const args: Array<string> = []
  let depth = 0
  let arg = ""
  for (let i = 0; i < s.length; i++) {
    const r = s[i]
    if (r === "(") {
      depth++
      if (depth === 1) continue
    } else if (r === ")") {
      depth--
      if (depth === 0) {
        args.push(arg.trim())
        return { args, length: i + 1 }
      }
    } else if (r === "," && depth === 1) {
      args.push(arg.trim())
      arg = ""
      continue
    }
    arg += r
  }
  return { args: undefined, length: -1 }
}

export const interpolateMacros = (sql: string, ctx: QueryContext): string => {
  // Longest names first, as sqlutil.Interpolate sorts them.
  const names = Object.keys(macros).sort((a, b) => b.length - a.length)
  let raw = sql
  for (const name of names) {
    const macro = macros[name]
    if (macro === undefined) continue
    const matches = [...raw.matchAll(new RegExp(`\\$__${name}\\b`, "g"))].map((m) => {
      const end = m.index + m[0].length
      const { args, length } = parseArgs(raw.slice(end))
      if (length < 0) throw new Error("failed to parse macro arguments (missing close bracket?)")
      return { full: raw.slice(m.index, end + length), args }
    })
    for (const m of matches) raw = raw.replaceAll(m.full, macro(ctx, m.args))
  }
  return raw
}

/** A panel target's SQL as the pinned Grafana and plugin would send it to ClickHouse. */
export const expandTarget = (rawSql: string, ctx: QueryContext): string =>
  interpolateMacros(interpolateVariables(applyConditionalAll(rawSql, ctx.variables), ctx), ctx)
