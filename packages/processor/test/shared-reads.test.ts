import { describe, expect, it } from "@effect/vitest"
import { Deferred, Effect, Fiber, Ref, TestClock } from "effect"
import { makeSharedReads } from "../src/console/shared-reads.ts"

describe("shared console reads", () => {
  it.effect("runs an identical read once per data version and second; concurrent callers share it", () =>
    Effect.gen(function* () {
      const reads = makeSharedReads(1_000)
      const runs = yield* Ref.make(0)
      const query = Ref.updateAndGet(runs, (n) => n + 1)
      expect(yield* reads.read("metrics a", 1, query)).toBe(1)
      expect(yield* reads.read("metrics a", 1, query)).toBe(1)
      // Another range, another data version: their own queries.
      expect(yield* reads.read("metrics b", 1, query)).toBe(2)
      expect(yield* reads.read("metrics a", 2, query)).toBe(3)
      // Past the TTL the same request asks the engine again.
      yield* TestClock.adjust("1001 millis")
      expect(yield* reads.read("metrics a", 2, query)).toBe(4)
      // Two callers while the first query is still running: one query.
      const gate = yield* Deferred.make<void>()
      const slow = Effect.zipRight(Deferred.await(gate), query)
      const first = yield* Effect.fork(reads.read("integrity", 2, slow))
      const second = yield* Effect.fork(reads.read("integrity", 2, slow))
      yield* Effect.yieldNow()
      yield* Deferred.succeed(gate, undefined)
      expect([yield* Fiber.join(first), yield* Fiber.join(second)]).toEqual([5, 5])
      expect(yield* Ref.get(runs)).toBe(5)
    }),
  )

  it.effect("does not keep a failed read", () =>
    Effect.gen(function* () {
      const reads = makeSharedReads(1_000)
      const runs = yield* Ref.make(0)
      const failing = Effect.zipRight(
        Ref.update(runs, (n) => n + 1),
        Effect.fail("engine down"),
      )
      expect(yield* Effect.flip(reads.read("metrics", 1, failing))).toBe("engine down")
      expect(yield* reads.read("metrics", 1, Effect.succeed("ok"))).toBe("ok")
      expect(yield* Ref.get(runs)).toBe(1)
    }),
  )
})
