import { describe, expect, it } from "@effect/vitest"
import { applyFlags, parseFlags, usage } from "../src/cli.ts"

const config = {
  rate: 10,
  total: undefined,
  users: 5_000,
  duplicateRatio: 0,
  malformedRatio: 0,
  poisonRatio: 0,
  seed: 9,
  compression: "none",
} as const

describe("cli flags", () => {
  it("reads every flag", () => {
    const parsed = parseFlags(
      "--rate 250 --total 1000 --users 300 --duplicates 0.02 --malformed 0.01 --seed=-4 --late 0.1 --truth t.jsonl".split(
        " ",
      ),
      "/runs",
    )
    expect(parsed).toEqual({
      _tag: "Run",
      flags: {
        rate: 250,
        total: 1_000,
        users: 300,
        duplicateRatio: 0.02,
        malformedRatio: 0.01,
        seed: -4,
        lateRatio: 0.1,
        truthFile: "/runs/t.jsonl",
      },
    })
  })

  it("lays flags over the configured settings", () => {
    const parsed = parseFlags(["--rate", "100"])
    if (parsed._tag !== "Run") throw new Error(parsed._tag)
    expect(applyFlags(config, parsed.flags)).toEqual({
      _tag: "Ok",
      value: { ...config, rate: 100, lateRatio: 0.02, truthFile: undefined },
    })
  })

  it("names the flag and the accepted form for a bad value", () => {
    expect(parseFlags(["--rate", "fast"])).toEqual({
      _tag: "Invalid",
      message: '--rate: expected a positive integer (messages per second), e.g. --rate 100, got "fast"',
    })
    for (const [flag, ...args] of [
      ["--rate", "--rate", "0"],
      ["--rate", "--rate", "1.5"],
      ["--total", "--total=-1"],
      ["--users", "--users", ""],
      ["--duplicates", "--duplicates", "1.5"],
      ["--malformed", "--malformed", "x"],
      ["--late", "--late=-0.1"],
    ]) {
      expect(parseFlags(args)).toMatchObject({
        _tag: "Invalid",
        message: expect.stringContaining(`${flag}: expected`),
      })
    }
    expect(parseFlags(["--late", "2"])).toMatchObject({ message: expect.stringMatching(/between 0 and 1/) })
    expect(parseFlags(["--seed", "1e3"])).toMatchObject({
      _tag: "Invalid",
      message: expect.stringContaining("--seed"),
    })
    expect(parseFlags(["--truth", ""])).toMatchObject({ _tag: "Invalid" })
  })

  it("refuses unknown flags, missing values and positionals", () => {
    expect(parseFlags(["--speed", "3"])).toMatchObject({
      _tag: "Invalid",
      message: expect.stringContaining("--speed"),
    })
    expect(parseFlags(["--rate"])).toMatchObject({
      _tag: "Invalid",
      message: expect.stringContaining("--rate"),
    })
    expect(parseFlags(["100"])).toMatchObject({ _tag: "Invalid" })
  })

  it("lets a later flag override an earlier one (make producer ARGS=... after the Makefile's --rate)", () => {
    expect(parseFlags(["--rate", "10", "--total", "5", "--rate", "50"])).toEqual({
      _tag: "Run",
      flags: { rate: 50, total: 5 },
    })
    expect(parseFlags(["--rate", "10", "--rate=fast"])).toMatchObject({
      _tag: "Invalid",
      message: expect.stringContaining(
        '--rate: expected a positive integer (messages per second), e.g. --rate 100, got "fast"',
      ),
    })
    expect(parseFlags(["--seed", "1", "--seed", "-4"])).toEqual({ _tag: "Run", flags: { seed: -4 } })
  })

  it("shows help", () => {
    expect(parseFlags(["--help"])).toEqual({ _tag: "Help" })
    expect(parseFlags(["-h"])).toEqual({ _tag: "Help" })
  })

  it("reads --compression, any Kafka codec, and lays it over PRODUCER_COMPRESSION", () => {
    for (const codec of ["none", "gzip", "snappy", "lz4", "zstd"] as const) {
      expect(parseFlags(["--compression", codec])).toEqual({ _tag: "Run", flags: { compression: codec } })
    }
    expect(parseFlags(["--compression=lz4"])).toEqual({ _tag: "Run", flags: { compression: "lz4" } })
    expect(applyFlags({ ...config, compression: "gzip" }, { compression: "zstd" })).toMatchObject({
      _tag: "Ok",
      value: { compression: "zstd" },
    })
    expect(applyFlags({ ...config, compression: "gzip" }, {})).toMatchObject({
      value: { compression: "gzip" },
    })
    expect(parseFlags(["--compression", "brotli"])).toEqual({
      _tag: "Invalid",
      message:
        '--compression: expected one of none, gzip, snappy, lz4, zstd, e.g. --compression zstd, got "brotli"',
    })
    expect(parseFlags(["--compression", "ZSTD"])).toMatchObject({ _tag: "Invalid" })
    expect(parseFlags(["--compression"])).toMatchObject({
      _tag: "Invalid",
      message: expect.stringContaining("--compression"),
    })
  })

  it("lists --compression in the help", () => {
    // @effect/cli lays the description out below the flag.
    expect(usage).toMatch(
      /--compression C\s+.*none, gzip, snappy, lz4 or zstd.*PRODUCER_COMPRESSION, default none/,
    )
  })

  it("refuses duplicate and malformed ratios adding up to more than 1", () => {
    expect(applyFlags(config, { duplicateRatio: 0.7, malformedRatio: 0.4 })).toMatchObject({
      _tag: "Invalid",
      message: expect.stringContaining("--duplicates"),
    })
  })
})
