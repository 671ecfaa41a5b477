import { describe, expect, it } from "vitest"
import {
  applyConditionalAll,
  expandTarget,
  interpolateMacros,
  interpolateVariables,
  type QueryContext,
} from "./support/grafana.ts"

/**
 * The expansion the Grafana integration test relies on (support/grafana.ts), against the outputs
 * the upstream sources state: the plugin's Macros table (docs/sources/query-editor.md, 4.x), the
 * SDK's sqlutil macros_test.go cases, the plugin's $__conditionalAll docs and Grafana's
 * singlequote format.
 */

// The plugin docs' examples: from 1415792726123 ms, to 1447328726456 ms, a 20 s interval.
const docs: QueryContext = { fromMs: 1415792726123, toMs: 1447328726456, intervalMs: 20_000, variables: [] }
const macro = (sql: string, ctx: QueryContext = docs) => interpolateMacros(sql, ctx)

describe("ClickHouse plugin macros (backend)", () => {
  it("give the outputs of the plugin's Macros table", () => {
    expect(macro("$__timeFilter(time)")).toBe(
      "time >= toDateTime(1415792726) AND time <= toDateTime(1447328726)",
    )
    expect(macro("$__timeFilter_ms(time)")).toBe(
      "time >= fromUnixTimestamp64Milli(1415792726123) AND time <= fromUnixTimestamp64Milli(1447328726456)",
    )
    expect(macro("$__fromTime")).toBe("toDateTime(1415792726)")
    expect(macro("$__toTime")).toBe("toDateTime(1447328726)")
    expect(macro("$__fromTime_ms")).toBe("fromUnixTimestamp64Milli(1415792726123)")
    expect(macro("$__toTime_ms")).toBe("fromUnixTimestamp64Milli(1447328726456)")
    expect(macro("$__interval_s")).toBe("20")
    expect(macro("$__timeInterval(column)")).toBe("toStartOfInterval(toDateTime(column), INTERVAL 20 second)")
    const days = { ...docs, fromMs: Date.UTC(2022, 9, 21, 10), toMs: Date.UTC(2022, 9, 23, 10) }
    expect(macro("$__dateFilter(date)", days)).toBe(
      "date >= toDate('2022-10-21') AND date <= toDate('2022-10-23')",
    )
    expect(macro("$__dt(d, t)", days)).toBe(
      `(d >= toDate('2022-10-21') AND d <= toDate('2022-10-23')) AND (t >= toDateTime(${Date.UTC(2022, 9, 21, 10) / 1_000}) AND t <= toDateTime(${Date.UTC(2022, 9, 23, 10) / 1_000}))`,
    )
  })

  it("parse arguments as the SDK does (sqlutil macros_test.go cases)", () => {
    // Arguments only when "(" follows the name at once; nested parentheses stay in the argument.
    expect(macro("select $__interval_s*(table.a + table.b) > 1000000")).toBe(
      "select 20*(table.a + table.b) > 1000000",
    )
    expect(macro("where $__timeFilter(cast(sth as timestamp) )")).toBe(
      "where cast(sth as timestamp) >= toDateTime(1415792726) AND cast(sth as timestamp) <= toDateTime(1447328726)",
    )
    expect(macro("( datetime >= $__fromTime ) AND ( datetime <= $__toTime ) limit 100")).toBe(
      "( datetime >= toDateTime(1415792726) ) AND ( datetime <= toDateTime(1447328726) ) limit 100",
    )
    // A macro whose name another one extends is not mistaken for it.
    expect(macro("$__timeFilter_ms(t) OR $__timeFilter(t)")).toBe(
      "t >= fromUnixTimestamp64Milli(1415792726123) AND t <= fromUnixTimestamp64Milli(1447328726456) OR t >= toDateTime(1415792726) AND t <= toDateTime(1447328726)",
    )
    expect(() => macro("where $__timeFilter(whoops")).toThrow(/missing close bracket/)
    expect(() => macro("where $__timeFilter")).toThrow(/expected 1, received 0/)
    expect(macro("select $__unknown(x)")).toBe("select $__unknown(x)")
    // Sub-second intervals still bucket by at least a second.
    expect(macro("$__interval_s", { ...docs, intervalMs: 200 })).toBe("1")
  })
})

describe("Grafana template variables and $__conditionalAll (frontend)", () => {
  const ctx = (current: ReadonlyArray<string>): QueryContext => ({
    ...docs,
    variables: [{ name: "database", multi: true, includeAll: true, current, options: ["db1", "db2", "o'k"] }],
  })
  const docsQuery = `SELECT count() FROM system.tables WHERE $__conditionalAll(database IN (\${database:singlequote}), $database)`

  it("$__conditionalAll: 1=1 for All (or nothing selected), the condition otherwise", () => {
    expect(applyConditionalAll(docsQuery, ctx(["$__all"]).variables)).toBe(
      "SELECT count() FROM system.tables WHERE 1=1",
    )
    expect(applyConditionalAll(docsQuery, ctx([]).variables)).toBe(
      "SELECT count() FROM system.tables WHERE 1=1",
    )
    expect(expandTarget(docsQuery, ctx(["db1", "db2"]))).toBe(
      "SELECT count() FROM system.tables WHERE database IN ('db1','db2')",
    )
  })

  it("formats values: singlequote escapes quotes, the plugin's default quotes arrays, macros pass through", () => {
    expect(interpolateVariables(`x IN (\${database:singlequote})`, ctx(["o'k"]))).toBe("x IN ('o\\'k')")
    expect(interpolateVariables("x IN ($database)", ctx(["db1", "db2"]))).toBe("x IN ('db1','db2')")
    expect(interpolateVariables("x IN ($database)", ctx(["$__all"]))).toBe("x IN ('db1','db2','o'k')")
    expect(interpolateVariables("$__timeFilter(t) AND $__interval_s > 0", ctx(["db1"]))).toBe(
      "$__timeFilter(t) AND $__interval_s > 0",
    )
    expect(interpolateVariables(`\${__from} \${__to} $__interval_ms`, ctx(["db1"]))).toBe(
      "1415792726123 1447328726456 20000",
    )
    expect(() => interpolateVariables(`\${database:regex}`, ctx(["db1"]))).toThrow(/not modelled/)
  })
})
