import { describe, expect, it } from "vitest"
import { type CpuProfile, classify, summarizeProfile } from "../experiments/profile-digest.ts"

const frame = (functionName: string, url = "") => ({ functionName, url, lineNumber: 0, columnNumber: 0 })
const repo = "file:///work/main/packages"
const pnpm = "file:///work/main/node_modules/.pnpm"

describe("stage classification", () => {
  it("attributes by the whole stack, app stages before runtimes", () => {
    // leaf first
    expect(
      classify([
        frame("JSON.parse"),
        frame("decodeEvent", `${repo}/core/src/event.ts`),
        frame("runLoop", `${pnpm}/effect@3.22.4/node_modules/effect/dist/esm/internal/fiberRuntime.js`),
      ]),
    ).toBe("decode (JSON.parse + Schema)")
    expect(
      classify([
        frame("stringify"),
        frame("", `${repo}/core/src/clickhouse.ts`),
        frame("runLoop", `${pnpm}/effect@3.22.4/x.js`),
      ]),
    ).toBe("JSON encoding (insert body)")
    expect(
      classify([
        frame("write", `${pnpm}/chdb@3.4.0/node_modules/chdb/dist/x.js`),
        frame("", `${repo}/core/src/clickhouse.ts`),
      ]),
    ).toBe("chDB insert (@clickhouse/client + chdb)")
    expect(classify([frame("decode", `${pnpm}/kafkajs@2.2.4/node_modules/kafkajs/src/x.js`)])).toBe(
      "consume (kafkajs + source)",
    )
    expect(classify([frame("(garbage collector)")])).toBe("gc")
    expect(classify([frame("compileSourceTextModule", "node:internal/modules/esm/utils")])).toBe(
      "start-up (module loading)",
    )
    expect(classify([frame("mystery", "file:///elsewhere.js")])).toBe("other")
  })
})

describe("summarizeProfile", () => {
  it("weights samples by their time deltas and leaves idle out of the percentages", () => {
    const profile: CpuProfile = {
      nodes: [
        { id: 1, callFrame: frame("(root)"), children: [2, 3, 5] },
        { id: 2, callFrame: frame("decodeRecords", `${repo}/pipeline/src/decode.ts`), children: [4] },
        { id: 3, callFrame: frame("(idle)") },
        { id: 4, callFrame: frame("decodeEvent", `${repo}/core/src/event.ts`) },
        { id: 5, callFrame: frame("groupByMinute", `${repo}/pipeline/src/window.ts`) },
      ],
      samples: [4, 4, 4, 5, 3, 3],
      timeDeltas: [1_000, 1_000, 1_000, 1_000, 4_000, 4_000],
    }
    const s = summarizeProfile(profile)
    expect(s.sampledMs).toBe(12)
    expect(s.busyMs).toBe(4)
    expect(s.stages).toEqual([
      { stage: "decode (JSON.parse + Schema)", ms: 3, pct: 75 },
      { stage: "grouping + row building (window.ts)", ms: 1, pct: 25 },
    ])
    expect(s.topFrames[0]).toMatchObject({ fn: "decodeEvent", where: "core/src/event.ts:1", selfMs: 3 })
  })
})
