import { Effect, Schedule } from "effect"
import type { Admin } from "kafkajs"
import type { LatencySample, OffsetSample } from "./fault-measure.ts"
import { ChaosError } from "./procs.ts"
import { chaosToken } from "./token.ts"

/**
 * What the fault measures are computed from, sampled while a cluster run goes on: the group's
 * committed offsets (from the brokers, so a processor restart does not hide anything) and the
 * processor's end-to-end latency histogram (from its /metrics). A failed sample is skipped: a
 * fault making the brokers or the processor unreachable shows as a gap, which is what is measured.
 */

/** The group's committed offset per partition (-1: none yet). */
export const committedOffsets = (admin: Admin, groupId: string, topic: string) =>
  Effect.tryPromise({
    try: async () => {
      const [t] = await admin.fetchOffsets({ groupId, topics: [topic] })
      return new Map((t?.partitions ?? []).map((p) => [p.partition, Number(p.offset)]))
    },
    catch: (e) => new ChaosError({ message: `fetchOffsets: ${e instanceof Error ? e.message : String(e)}` }),
  }).pipe(
    Effect.timeoutFail({
      duration: "3 seconds",
      onTimeout: () => new ChaosError({ message: "fetchOffsets timed out" }),
    }),
  )

const bucketLine = /^rtoa_end_to_end_latency_seconds_bucket\{le="([^"]+)"\} (\d+(?:\.\d+)?)$/

/** The latency histogram's buckets from a /metrics text (empty if absent). */
export const parseLatency = (text: string): { bounds: Array<number>; cumulative: Array<number> } => {
  const bounds: Array<number> = []
  const cumulative: Array<number> = []
  for (const line of text.split("\n")) {
    const m = bucketLine.exec(line)
    if (m === null) continue
    bounds.push(m[1] === "+Inf" ? Number.POSITIVE_INFINITY : Number(m[1]))
    cumulative.push(Number(m[2]))
  }
  return { bounds, cumulative }
}

const scrapeLatency = (port: number) =>
  Effect.tryPromise({
    try: async () => {
      const r = await fetch(`http://127.0.0.1:${port}/metrics`, {
        headers: { authorization: `Bearer ${chaosToken}` },
        signal: AbortSignal.timeout(2_000),
      })
      if (!r.ok) throw new Error(`HTTP ${r.status}`)
      return parseLatency(await r.text())
    },
    catch: (e) => new ChaosError({ message: `/metrics: ${e instanceof Error ? e.message : String(e)}` }),
  })

/** Samples offsets every 500 ms and latency every second into the arrays, until interrupted. */
export const sampleForever = (
  admin: Admin,
  groupId: string,
  topic: string,
  port: number,
  offsets: Array<OffsetSample>,
  latency: Array<LatencySample>,
) =>
  Effect.all(
    [
      committedOffsets(admin, groupId, topic).pipe(
        Effect.tap((committed) => Effect.sync(() => offsets.push({ at: Date.now(), committed }))),
        Effect.ignore,
        Effect.repeat(Schedule.spaced("500 millis")),
      ),
      scrapeLatency(port).pipe(
        Effect.tap((h) =>
          Effect.sync(() => {
            if (h.bounds.length > 0) latency.push({ at: Date.now(), ...h })
          }),
        ),
        Effect.ignore,
        Effect.repeat(Schedule.spaced("1 second")),
      ),
    ],
    { concurrency: 2, discard: true },
  )
