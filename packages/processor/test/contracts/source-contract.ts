import { describe, expect, it } from "@effect/vitest"
import type { EventSourceService, SourceRecord } from "@rtoa/pipeline"
import { Chunk, Duration, Effect, Fiber, type Scope, Stream } from "effect"

/**
 * The EventSource contract, written once and run on the in-memory source (unit project) and on
 * the Kafka source against the real broker (integration project):
 *   order per partition   each partition's records come in offset order, none skipped or repeated
 *   commit persistence    a committed offset is where the group's next member starts
 *   drain                 `records` ends after everything already fetched; nothing fetched is lost,
 *                         and what was not fetched is left for the next member
 *   bounded blocking      with nobody reading, a member fetches a bounded amount and then waits
 */
export interface SourceMember {
  readonly service: EventSourceService
  /** Records this member has taken from the broker so far (buffered, waiting for room, or handed on). */
  readonly fetched: Effect.Effect<number>
}

export interface SourceHarness {
  /** Appends `values` to a partition of the topic, in order (one send). */
  readonly produce: (partition: number, values: ReadonlyArray<string>) => Effect.Effect<void>
  /**
   * A new member of the harness's one consumer group (from the beginning when nothing is
   * committed), with room for `capacity` fetched batches; it leaves the group when its scope closes.
   */
  readonly member: (capacity: number) => Effect.Effect<SourceMember, never, Scope.Scope>
  /** The most records one fetch can bring (with `capacity`, what a stalled member may hold). */
  readonly maxFetchRecords: number
  /** How long a member may take to deliver (a Kafka group join takes seconds). */
  readonly patience: Duration.Duration
}

const values = (partition: number, count: number, from = 0) =>
  Array.from({ length: count }, (_, i) => `p${partition}-${from + i}`)

const text = (r: SourceRecord) => r.value?.toString() ?? ""

const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i)

const offsetsOf = (records: ReadonlyArray<SourceRecord>, partition = 0) =>
  records.filter((r) => r.partition === partition).map((r) => Number(r.offset))

/** The first `count` records, or a failure if they do not all come within `patience`. */
const take = (member: SourceMember, count: number, patience: Duration.Duration) =>
  member.service.records.pipe(
    Stream.take(count),
    Stream.runCollect,
    Effect.map(Chunk.toReadonlyArray),
    Effect.timeoutFail({
      duration: patience,
      onTimeout: () => new Error(`fewer than ${count} records came`),
    }),
  )

/** Waits until `fetched` is above zero and has not moved for `quiet`; returns it. */
const settled = (member: SourceMember, quiet: Duration.Duration, patience: Duration.Duration) =>
  Effect.gen(function* () {
    let last = -1
    for (;;) {
      const now = yield* member.fetched
      if (now > 0 && now === last) return now
      last = now
      yield* Effect.sleep(quiet)
    }
  }).pipe(Effect.timeoutFail({ duration: patience, onTimeout: () => new Error("fetching never settled") }))

/** Appends `total` records to partition 0 in sends of 10. */
const produceMany = (h: SourceHarness, total: number) =>
  Effect.forEach(range(0, total / 10), (send) => h.produce(0, values(0, 10, send * 10)), { discard: true })

export const sourceContract = (
  name: string,
  makeHarness: Effect.Effect<SourceHarness, never, Scope.Scope>,
  timeout?: number,
) =>
  describe(`EventSource contract: ${name}`, () => {
    it.scopedLive(
      "delivers each partition's records in offset order, none skipped or repeated",
      () =>
        Effect.gen(function* () {
          const h = yield* makeHarness
          for (const partition of [0, 1, 2]) {
            yield* h.produce(partition, values(partition, 15))
            yield* h.produce(partition, values(partition, 15, 15))
          }
          const member = yield* h.member(4)
          const got = yield* take(member, 90, h.patience)
          for (const partition of [0, 1, 2]) {
            expect(offsetsOf(got, partition)).toEqual(range(0, 30))
            expect(got.filter((r) => r.partition === partition).map(text)).toEqual(values(partition, 30))
          }
          yield* member.service.drain
        }),
      timeout,
    )

    it.scopedLive(
      "a committed offset is where the group's next member starts",
      () =>
        Effect.gen(function* () {
          const h = yield* makeHarness
          yield* h.produce(0, values(0, 10))
          // Each member in a scope of its own: it has left the group when the next one joins.
          yield* Effect.scoped(
            Effect.gen(function* () {
              const first = yield* h.member(4)
              const read = yield* take(first, 10, h.patience)
              expect(offsetsOf(read)).toEqual(range(0, 10))
              yield* first.service.commit([{ topic: read[0]?.topic ?? "", partition: 0, offset: "6" }])
              yield* first.service.drain
            }),
          )
          const next = yield* Effect.scoped(
            Effect.gen(function* () {
              const second = yield* h.member(4)
              const got = yield* take(second, 4, h.patience)
              yield* second.service.drain
              return got
            }),
          )
          expect(offsetsOf(next)).toEqual([6, 7, 8, 9])
          expect(next.map(text)).toEqual(values(0, 4, 6))
        }),
      timeout,
    )

    it.scopedLive(
      "drain ends the records after everything already fetched; what was not fetched goes to the next member",
      () =>
        Effect.gen(function* () {
          const h = yield* makeHarness
          const total = 40 * h.maxFetchRecords
          yield* produceMany(h, total)
          const fetched = yield* Effect.scoped(
            Effect.gen(function* () {
              const first = yield* h.member(2)
              // Nobody reads yet: the member fetches until its buffer is full; then it drains. The
              // end marker may itself wait for room, so the records are read while it does.
              const fetched = yield* settled(first, Duration.millis(500), h.patience)
              const draining = yield* Effect.fork(first.service.drain)
              const emitted = Chunk.toReadonlyArray(yield* Stream.runCollect(first.service.records))
              yield* Fiber.join(draining)
              // Everything fetched came out, in order, and nothing more was fetched after the drain.
              expect(offsetsOf(emitted)).toEqual(range(0, fetched))
              expect(yield* first.fetched).toBe(fetched)
              const topic = emitted[0]?.topic ?? ""
              yield* first.service.commit([{ topic, partition: 0, offset: String(fetched) }])
              return fetched
            }),
          )
          expect(fetched).toBeLessThan(total)
          const second = yield* h.member(4)
          const rest = yield* take(second, total - fetched, h.patience)
          expect(offsetsOf(rest)).toEqual(range(fetched, total))
          yield* second.service.drain
        }),
      timeout,
    )

    it.scopedLive(
      "with nobody reading, a member fetches a bounded amount; once read, everything comes in order",
      () =>
        Effect.gen(function* () {
          const h = yield* makeHarness
          const total = 40 * h.maxFetchRecords
          yield* produceMany(h, total)
          const capacity = 2
          const member = yield* h.member(capacity)
          const fetched = yield* settled(member, Duration.millis(500), h.patience)
          // The buffer's batches plus the one waiting for room.
          expect(fetched).toBeLessThanOrEqual((capacity + 1) * h.maxFetchRecords)
          const got = yield* take(member, total, h.patience)
          expect(offsetsOf(got)).toEqual(range(0, total))
          yield* member.service.drain
        }),
      timeout,
    )
  })
