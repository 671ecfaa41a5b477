import {
  makeInMemoryDeadLetters,
  makeInMemoryGroup,
  makeInMemorySink,
  makeInMemorySource,
  type SinkBatch,
  type SourceRecord,
  sourceRecord,
} from "@rtoa/pipeline"
import { Duration, Effect } from "effect"
import { deadLetterContract } from "./dead-letter-contract.ts"
import { minuteLine, type SinkHarness, type StoredView, sinkContract } from "./sink-contract.ts"
import { type SourceHarness, sourceContract } from "./source-contract.ts"

// The contract suites on the in-memory layers; live.it.test.ts runs the same suites on Kafka and
// ClickHouse.

/**
 * The in-memory source has no broker: `push` is a fetch. Here a topic (records per partition) and
 * a fetch loop per member stand in for the broker and kafkajs: each member is offered every
 * partition from its start, in batches of at most 5, and the source itself starts each partition
 * at the group's committed offset and stops taking batches once drained.
 */
const inMemorySource: Effect.Effect<SourceHarness> = Effect.gen(function* () {
  const topic = new Map<number, Array<SourceRecord>>()
  const group = yield* makeInMemoryGroup
  const maxFetchRecords = 5
  return {
    produce: (partition, values) =>
      Effect.sync(() => {
        const log = topic.get(partition) ?? []
        for (const value of values)
          log.push(sourceRecord(partition, log.length, value, { topic: "contract" }))
        topic.set(partition, log)
      }),
    member: (capacity) =>
      Effect.gen(function* () {
        const source = yield* makeInMemorySource(undefined, capacity, group)
        const position = new Map<number, number>()
        let fetched = 0
        const fetchLoop = Effect.gen(function* () {
          for (;;) {
            let idle = true
            for (const [partition, log] of topic) {
              const from = position.get(partition) ?? 0
              const batch = log.slice(from, from + maxFetchRecords)
              if (batch.length === 0) continue
              idle = false
              // Counted when taken from the broker, as the live source counts before it waits for room.
              fetched += batch.length
              if ((yield* source.push(batch)) === false) {
                fetched -= batch.length
                return
              }
              position.set(partition, from + batch.length)
            }
            if (idle) yield* Effect.sleep("5 millis")
          }
        })
        yield* Effect.forkScoped(fetchLoop)
        return { service: source.service, fetched: Effect.sync(() => fetched) }
      }),
    maxFetchRecords,
    patience: Duration.seconds(5),
  }
})

/** What an engine would hold after these writes: rows deduplicated by event_id, metrics as sets. */
const storedView = (batches: ReadonlyArray<SinkBatch>): StoredView => {
  const minutes = new Map<string, { events: Set<string>; users: Set<string> }>()
  for (const a of batches.flatMap((b) => b.aggregates)) {
    const key = [a.time_window, a.dimension_channel, a.event_source, a.event_type].join("\u0000")
    const m = minutes.get(key) ?? { events: new Set(), users: new Set() }
    for (const id of a.event_ids) m.events.add(id)
    for (const id of a.user_ids) m.users.add(id)
    minutes.set(key, m)
  }
  return {
    events: [...new Set(batches.flatMap((b) => b.rows.map((r) => r.event_id)))].sort(),
    minutes: [...minutes]
      .map(([key, m]) => {
        const [time = "", channel = "", source = "", type = ""] = key.split("\u0000")
        return minuteLine(time, channel, source, type, m.events.size, m.users.size)
      })
      .sort(),
  }
}

const inMemorySink: SinkHarness = {
  make: (fault) =>
    Effect.map(
      makeInMemorySink(
        fault === "table-dropped"
          ? { failures: Number.POSITIVE_INFINITY, failure: "Schema" }
          : fault === "refuses-user-poison"
            ? { rejects: (row) => row.user_id === "poison" }
            : {},
      ),
      (sink) => ({ service: sink.service, stored: Effect.map(sink.batches, storedView) }),
    ),
}

sourceContract("in-memory", inMemorySource)
sinkContract("in-memory", inMemorySink)
deadLetterContract("in-memory", {
  make: Effect.map(makeInMemoryDeadLetters, (dlq) => ({
    service: dlq.service,
    published: Effect.map(dlq.letters, (letters) =>
      letters.map((l) => ({
        position: `${l.record.topic}:${l.record.partition}:${l.record.offset}`,
        reason: l.reason,
        value: l.record.value?.toString() ?? null,
      })),
    ),
  })),
  publishUnreachable: (letters) =>
    Effect.gen(function* () {
      const dlq = yield* makeInMemoryDeadLetters
      yield* dlq.setReachable(false)
      yield* dlq.service.publish(letters)
    }),
})
