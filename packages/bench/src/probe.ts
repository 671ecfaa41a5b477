import { closeQuietly, kafkaTry } from "@rtoa/core"
import { Duration, Effect, Ref, type Scope } from "effect"
import type { Kafka, Producer } from "kafkajs"
import type { BenchError } from "./procs.ts"

/**
 * Poll-based visibility probes, the cross-check of the ingested_at definition. During a run the
 * bench sends one probe event now and then (event_id 'probe-...', event_time = its send time) and
 * polls the system with one primary-key SELECT for all outstanding probes every `pollMs`. For each
 * probe found:
 *   visible = first successful SELECT's response time - send time   (an upper bound, +pollMs)
 *   gap     = that response time - ingested_at                       (what ingested_at misses)
 */

export interface ProbeOutcome {
  readonly visibleMs: ReadonlyArray<number>
  readonly gapMs: ReadonlyArray<number>
  readonly lost: number
}

export const scopedProducer = (kafka: Kafka): Effect.Effect<Producer, never, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.gen(function* () {
      const p = kafka.producer({ allowAutoTopicCreation: false })
      yield* kafkaTry("producer.connect", () => p.connect()).pipe(Effect.orDie)
      return p
    }),
    (p) => closeQuietly("the probe producer", () => p.disconnect()),
  )

export const probeEvent = (id: string, sentMs: number): string =>
  JSON.stringify({
    event_id: id,
    user_id: "probe",
    event_type: "probe",
    dimension_channel: "Bench",
    event_source: "bench",
    event_time: new Date(sentMs).toISOString(),
  })

export const runProbes = (options: {
  readonly producer: Producer
  readonly topic: string
  readonly runId: string
  readonly query: (sql: string) => Effect.Effect<ReadonlyArray<Record<string, unknown>>, BenchError>
  readonly every: Duration.DurationInput
  readonly duration: Duration.DurationInput
  readonly pollMs?: number
  readonly settle?: Duration.DurationInput
}): Effect.Effect<ProbeOutcome> =>
  Effect.gen(function* () {
    const outstanding = yield* Ref.make(new Map<string, number>())
    const visible: Array<number> = []
    const gap: Array<number> = []
    const pollMs = options.pollMs ?? 25
    let sending = true

    const send = Effect.gen(function* () {
      const count = Math.max(
        1,
        Math.floor(Duration.toMillis(options.duration) / Duration.toMillis(options.every)),
      )
      for (let i = 0; i < count; i++) {
        const id = `probe-${options.runId}-${i}`
        const sent = Date.now()
        yield* Ref.update(outstanding, (m) => new Map(m).set(id, sent))
        yield* kafkaTry("producer.send", () =>
          options.producer.send({
            topic: options.topic,
            acks: -1,
            messages: [{ key: "probe", value: probeEvent(id, sent) }],
          }),
        ).pipe(Effect.ignore)
        yield* Effect.sleep(options.every)
      }
      sending = false
    })

    const poll = Effect.gen(function* () {
      const settleMs = Duration.toMillis(options.settle ?? "30 seconds")
      let doneAt: number | undefined
      for (;;) {
        const open = yield* Ref.get(outstanding)
        if (!sending) doneAt ??= Date.now()
        if (!sending && (open.size === 0 || Date.now() - (doneAt ?? 0) > settleMs)) return
        if (open.size > 0) {
          const ids = [...open.keys()].map((id) => `'${id}'`).join(",")
          const rows = yield* options
            .query(
              `SELECT event_id, toUnixTimestamp64Milli(ingested_at) AS ia FROM raw_events WHERE event_id IN (${ids})`,
            )
            .pipe(Effect.orElseSucceed((): ReadonlyArray<Record<string, unknown>> => []))
          const now = Date.now()
          const found = new Set<string>()
          for (const row of rows) {
            const id = String(row.event_id)
            const sent = open.get(id)
            if (sent === undefined || found.has(id)) continue
            found.add(id)
            visible.push(now - sent)
            gap.push(now - Number(row.ia))
          }
          if (found.size > 0)
            yield* Ref.update(outstanding, (m) => new Map([...m].filter(([id]) => !found.has(id))))
        }
        yield* Effect.sleep(Duration.millis(pollMs))
      }
    })

    yield* Effect.all([send, poll], { concurrency: 2, discard: true })
    const lost = (yield* Ref.get(outstanding)).size
    return { visibleMs: visible, gapMs: gap, lost }
  })
