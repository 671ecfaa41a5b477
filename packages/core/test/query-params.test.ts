import { describe, expect, it } from "vitest"
import { embeddedParams, placeholderTypes, unescapeParam } from "../src/query-params.ts"

// What chDB's binder does to a string before the engine parses it (chdb dist/serialize.js tsvEscape).
const chdbEscape = (s: string) =>
  s.replace(
    /[\\\0\b\f\n\r\t]/g,
    (c) => `\\${{ "\\": "\\", "\0": "0", "\b": "b", "\f": "f", "\n": "n", "\r": "r", "\t": "t" }[c]}`,
  )

describe("query parameters for chDB's binder", () => {
  it("reads the placeholders' declared types", () => {
    expect([...placeholderTypes("SELECT {x:UInt32}, { a : Array(String) }, {x:String}")]).toEqual([
      ["x", "UInt32"],
      ["a", "Array(String)"],
    ])
  })

  it("unescapes ClickHouse's escaped text, as the engine would read it", () => {
    expect(unescapeParam("it\\'s\\ta\\\\b\\n")).toBe("it's\ta\\b\n")
    expect(unescapeParam("\\x41\\xc3\\xa9\\q\\\t")).toBe("Aéq\t")
    expect(unescapeParam("\\xff")).toBeUndefined()
  })

  it("decodes scalars whole and rewrites only the quoted strings of composites", () => {
    const sql =
      "SELECT {s:String}, {n:Nullable(UInt8)}, {a:Array(String)}, {m:Map(String, UInt8)}, {x:UInt32}"
    const out = embeddedParams(sql, {
      s: "it\\'s\\t\\\\",
      n: "\\N",
      a: "['it\\'s', 'a\\\\b',\n'c''d']",
      m: "{'k\\'':1}",
      x: "41",
    })
    expect(out).toEqual({
      params: { s: "it's\t\\", n: null, a: "['it''s', 'a\\b', 'c''d']", m: "{'k''':1}", x: "41" },
    })
    // After chDB's own escaping the engine reads the literal as the client meant it.
    if ("params" in out) expect(chdbEscape(out.params.a ?? "")).toBe("['it''s', 'a\\\\b', 'c''d']")
    expect(embeddedParams("SELECT {a:Array(String)}", { a: "['open" })).toEqual({ invalid: "a" })
  })
})
