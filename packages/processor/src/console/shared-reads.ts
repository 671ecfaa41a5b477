import { Clock, Effect, Exit } from "effect"

/**
 * Identical console reads share one engine query. Every open page refetches the same panels when
 * the data version changes (the stream tells them all at once), and each read competes with
 * ingestion for the engine and the cores: N dashboards on the same view cost one. An answer is
 * reused only for the same request under the same data version and for at most `ttlMillis`
 * (panels that do not follow the data version, such as health history, are at most that stale);
 * a failed read is not kept. Concurrent identical requests wait for the one in flight.
 */
export interface SharedReads {
  readonly read: <A, E, R>(
    key: string,
    version: number,
    query: Effect.Effect<A, E, R>,
  ) => Effect.Effect<A, E, R>
}

interface Entry {
  readonly at: number
  readonly value: Effect.Effect<unknown, unknown>
}

export const makeSharedReads = (ttlMillis: number, maxEntries = 256): SharedReads => {
  const entries = new Map<string, Entry>()
  const evict = (now: number) => {
    for (const [k, e] of entries) if (now - e.at >= ttlMillis) entries.delete(k)
    // Many distinct ranges within one TTL: drop the oldest (Map keeps insertion order).
    while (entries.size >= maxEntries) {
      const oldest = entries.keys().next().value
      if (oldest === undefined) break
      entries.delete(oldest)
    }
  }
  return {
    read: <A, E, R>(key: string, version: number, query: Effect.Effect<A, E, R>) =>
      Effect.gen(function* () {
        const now = yield* Clock.currentTimeMillis
        const id = `${version}\u0000${key}`
        const hit = entries.get(id)
        if (hit !== undefined && now - hit.at < ttlMillis) return yield* hit.value as Effect.Effect<A, E>
        evict(now)
        const context = yield* Effect.context<R>()
        // Memoized: the first caller runs the query, later ones (and concurrent ones) await it.
        const entry: { at: number; value: Effect.Effect<A, E> } = { at: now, value: Effect.never }
        entry.value = yield* Effect.cached(
          query.pipe(
            Effect.provide(context),
            // A failure or an interrupted first caller is not an answer to keep.
            Effect.onExit((exit) =>
              Effect.sync(() => {
                if (!Exit.isSuccess(exit) && entries.get(id) === entry) entries.delete(id)
              }),
            ),
          ),
        )
        const shared = entry.value
        entries.set(id, entry)
        return yield* shared
      }),
  }
}
