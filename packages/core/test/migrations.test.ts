import { describe, expect, it } from "vitest"
import { splitStatements } from "../src/migrations.ts"

describe("migration files", () => {
  it("split into statements at line-ending semicolons, ignoring comments", () => {
    const sql =
      "-- a comment; not a statement\nCREATE TABLE a (x Int8) ENGINE = Memory;\n\nCREATE VIEW b AS\nSELECT 1; -- trailing\n"
    expect(splitStatements(sql)).toEqual([
      "CREATE TABLE a (x Int8) ENGINE = Memory",
      "CREATE VIEW b AS\nSELECT 1",
    ])
  })
})
