import { describe, expect, it } from "vitest"
import { busiestNode, coordinatorPartition, javaStringHash } from "../src/cluster.ts"
import { clusterBrokers } from "../src/cluster-run.ts"
import {
  advances,
  type LatencySample,
  longestGap,
  measureFaults,
  type OffsetSample,
  quantile,
  windowCounts,
} from "../src/fault-measure.ts"
import { parseLatency } from "../src/samplers.ts"

describe("cluster faults: where to strike", () => {
  it("hashes group ids as Java does and places them as Kafka does", () => {
    // Values of java.lang.String#hashCode.
    expect(javaStringHash("hello")).toBe(99_162_322)
    expect(javaStringHash("rtoa-processor")).toBe(410_605_977)
    // Its hash is Integer.MIN_VALUE, whose Math.abs stays negative: Kafka's Utils.abs gives 0.
    expect(javaStringHash("polygenelubricants")).toBe(-2_147_483_648)
    expect(coordinatorPartition("polygenelubricants")).toBe(0)
    expect(coordinatorPartition("hello")).toBe(99_162_322 % 50)
    expect(coordinatorPartition("rtoa-processor")).toBe(410_605_977 % 50)
  })

  it("picks the node leading the most partitions, the lowest id on a tie", () => {
    expect(busiestNode([2, 3, 2])).toBe(2)
    expect(busiestNode([3, 1, 2])).toBe(1)
    expect(busiestNode([-1, -1])).toBeUndefined()
  })

  it("lays the nodes out two ports apart (the controller takes the port between)", () => {
    expect(clusterBrokers(19_192, 3)).toBe("127.0.0.1:19192,127.0.0.1:19194,127.0.0.1:19196")
    expect(clusterBrokers(19_192, 1)).toBe("127.0.0.1:19192")
  })
})

const offsets = (rows: ReadonlyArray<[number, Record<number, number>]>): Array<OffsetSample> =>
  rows.map(([at, c]) => ({ at, committed: new Map(Object.entries(c).map(([p, o]) => [Number(p), o])) }))

describe("cluster faults: stall", () => {
  // Partition 0 stands still from 2 s to 9 s; partition 1 keeps moving; partition 2 appears at 6 s.
  const samples = offsets([
    [0, { 0: 0, 1: 0 }],
    [1_000, { 0: 10, 1: 10 }],
    [2_000, { 0: 20, 1: 20 }],
    [4_000, { 0: 20, 1: 30 }],
    [6_000, { 0: 20, 1: 40, 2: -1 }],
    [9_000, { 0: 30, 1: 50, 2: 5 }],
    [10_000, { 0: 40, 1: 60, 2: 9 }],
  ])

  it("finds when each partition's commits moved", () => {
    expect(advances(samples, 0)).toEqual([1_000, 2_000, 9_000, 10_000])
    expect(advances(samples, 2)).toEqual([9_000, 10_000])
    expect(advances(samples)).toEqual([1_000, 2_000, 4_000, 6_000, 9_000, 10_000])
  })

  it("takes the longest gap touching the window, open-ended at the last sample", () => {
    expect(longestGap([1_000, 2_000, 9_000], 3_000, 4_000, 10_000)).toBe(7)
    expect(longestGap([1_000, 2_000, 9_000], 9_500, 9_600, 10_000)).toBe(1)
    expect(longestGap([1_000], 5_000, 6_000, 10_000)).toBe(9)
  })

  it("reports the worst partition and the whole group separately", () => {
    const [m] = measureFaults([{ name: "x", start: 3_000, end: 4_000, detail: "" }], samples, [], 1_000)
    expect(m?.worstPartitionStallSeconds).toBe(7)
    expect(m?.groupStallSeconds).toBe(2)
    expect(m?.p99Ms).toBeUndefined()
  })
})

describe("cluster faults: latency", () => {
  const bounds = [0.1, 1, Number.POSITIVE_INFINITY]
  const at = (t: number, cumulative: Array<number>): LatencySample => ({ at: t, bounds, cumulative })

  it("interpolates a quantile within its bucket", () => {
    expect(quantile(bounds, [50, 100, 100], 0.5)).toBeCloseTo(0.1)
    expect(quantile(bounds, [0, 100, 100], 0.99)).toBeCloseTo(0.1 + 0.9 * 0.99)
    expect(quantile(bounds, [0, 0, 10], 0.99)).toBe(1)
    expect(quantile(bounds, [0, 0, 0], 0.99)).toBeUndefined()
  })

  it("counts what a window saw, a processor restart counting from zero", () => {
    const samples = [at(0, [5, 5, 5]), at(1_000, [10, 12, 12]), at(2_000, [1, 3, 3]), at(3_000, [2, 8, 9])]
    // 1 s: +5/+7/+7; 2 s: restart, 1/3/3; 3 s: +1/+5/+6.
    expect(windowCounts(samples, 500, 3_000)).toEqual([7, 15, 16])
    expect(windowCounts(samples, 5_000, 6_000)).toBeUndefined()
  })

  it("reads the histogram from the processor's /metrics", () => {
    const text = [
      "# TYPE rtoa_end_to_end_latency_seconds histogram",
      'rtoa_end_to_end_latency_seconds_bucket{le="0.1"} 4',
      'rtoa_end_to_end_latency_seconds_bucket{le="1"} 9',
      'rtoa_end_to_end_latency_seconds_bucket{le="+Inf"} 10',
      "rtoa_end_to_end_latency_seconds_sum 3.2",
      'rtoa_batch_rows_bucket{le="1"} 7',
    ].join("\n")
    expect(parseLatency(text)).toEqual({ bounds, cumulative: [4, 9, 10] })
  })
})
