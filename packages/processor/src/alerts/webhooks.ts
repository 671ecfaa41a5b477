import { AlertState } from "@rtoa/dashboard"
import { Data, Duration, Effect, Option, Queue, Schedule, Schema, type Scope, SynchronizedRef } from "effect"

/**
 * Webhook delivery for firing and resolved transitions. Delivery must never slow the evaluator
 * (nor ingestion): `send` only enqueues. Each destination has its own bounded queue and a few
 * senders, so a receiver that never answers holds up only its own deliveries; when a queue is
 * full the oldest delivery is dropped with a warning. Every request has a timeout and is retried
 * with exponential backoff; a delivery that finally fails is logged.
 */

/** The JSON body POSTed to every webhook. */
export const WebhookPayload = Schema.Struct({
  rule: Schema.String,
  kind: Schema.String,
  description: Schema.String,
  state: AlertState,
  previousState: AlertState,
  value: Schema.NullOr(Schema.Number),
  threshold: Schema.NullOr(Schema.Number),
  message: Schema.String,
  /** When the transition happened, ISO-8601 UTC. */
  time: Schema.String,
})
export type WebhookPayload = typeof WebhookPayload.Type

export interface WebhookOptions {
  /** Deliveries waiting per destination; beyond it the oldest is dropped. */
  readonly queueCapacity: number
  /** Concurrent senders per destination. */
  readonly concurrency: number
  /** Per request, the answer included. */
  readonly timeout: Duration.Duration
  /** The first retry waits this long, each next one twice as long. */
  readonly retryBase: Duration.Duration
  /** Attempts in all, the first included. */
  readonly attempts: number
}

export const defaultWebhookOptions: WebhookOptions = {
  queueCapacity: 100,
  concurrency: 2,
  timeout: Duration.seconds(5),
  retryBase: Duration.seconds(1),
  attempts: 5,
}

export interface WebhookSender {
  /** Queues the payload for each URL and returns at once. */
  readonly send: (urls: ReadonlyArray<string>, payload: WebhookPayload) => Effect.Effect<void>
}

class WebhookFailed extends Data.TaggedError("WebhookFailed")<{ readonly message: string }> {}

/** Webhook URLs often carry a secret in their path (Slack, Teams): logs show the origin only. */
const redactUrl = (url: string): string => (URL.canParse(url) ? `${new URL(url).origin}/…` : "(invalid URL)")

const describe = (p: WebhookPayload) => `${p.rule} ${p.previousState} -> ${p.state} at ${p.time}`

/** One POST: 2xx is delivered; anything else, an error or no answer within the timeout fails. */
const post = (url: string, body: string, timeout: Duration.Duration) =>
  Effect.tryPromise({
    try: async (signal) => {
      const res = await fetch(url, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body,
        signal,
        redirect: "manual",
      })
      // Read the answer so the connection can be reused; its content is not needed.
      await res.arrayBuffer()
      return res.status
    },
    catch: (e) => new WebhookFailed({ message: e instanceof Error ? e.message : String(e) }),
  }).pipe(
    Effect.timeoutFail({
      duration: timeout,
      onTimeout: () => new WebhookFailed({ message: `no answer within ${Duration.format(timeout)}` }),
    }),
    Effect.flatMap((status) =>
      status >= 200 && status < 300
        ? Effect.void
        : Effect.fail(new WebhookFailed({ message: `HTTP ${status}` })),
    ),
  )

/**
 * The sender; its queues and senders live as long as the scope. The destinations known up front
 * get theirs now, so the senders belong to the caller's fiber (its logger, no stray parent span)
 * rather than to whichever evaluation first sends to them; others get theirs on first use.
 */
export const makeWebhookSender = (
  options: WebhookOptions = defaultWebhookOptions,
  destinations: ReadonlyArray<string> = [],
): Effect.Effect<WebhookSender, never, Scope.Scope> =>
  Effect.gen(function* () {
    const scope = yield* Effect.scope
    const retry = Schedule.exponential(options.retryBase, 2).pipe(
      Schedule.intersect(Schedule.recurs(Math.max(0, options.attempts - 1))),
    )

    const deliver = (url: string, payload: WebhookPayload) =>
      post(url, JSON.stringify(payload), options.timeout).pipe(
        Effect.tapError((e) =>
          Effect.logDebug(`webhook ${redactUrl(url)}: ${describe(payload)}: ${e.message}`),
        ),
        Effect.retry(retry),
        Effect.catchAll((e) =>
          Effect.logError(
            `webhook ${redactUrl(url)}: gave up on ${describe(payload)} after ${options.attempts} attempts: ${e.message}`,
          ),
        ),
        // A sender must outlive any one delivery, whatever went wrong in it.
        Effect.catchAllDefect((d) =>
          Effect.logError(`webhook ${redactUrl(url)}: ${describe(payload)}: ${String(d)}`),
        ),
      )

    // One queue per destination, created (with its senders) the first time it is used.
    const queues = yield* SynchronizedRef.make(new Map<string, Queue.Queue<WebhookPayload>>())
    const queueFor = (url: string) =>
      SynchronizedRef.modifyEffect(queues, (map) => {
        const known = map.get(url)
        if (known !== undefined) return Effect.succeed([known, map] as const)
        return Effect.gen(function* () {
          // Sliding: an offer never waits; the poll below drops the oldest first so it can be logged.
          const queue = yield* Queue.sliding<WebhookPayload>(options.queueCapacity)
          const sender = Effect.forever(Effect.flatMap(Queue.take(queue), (p) => deliver(url, p)))
          for (let i = 0; i < options.concurrency; i++) yield* Effect.forkIn(sender, scope)
          return [queue, new Map(map).set(url, queue)] as const
        })
      })

    const enqueue = (url: string, payload: WebhookPayload) =>
      Effect.gen(function* () {
        const queue = yield* queueFor(url)
        if (yield* Queue.isFull(queue)) {
          const dropped = yield* Queue.poll(queue)
          if (Option.isSome(dropped))
            yield* Effect.logWarning(
              `webhook ${redactUrl(url)}: queue full (${options.queueCapacity}), dropped the oldest delivery: ${describe(dropped.value)}`,
            )
        }
        yield* Queue.offer(queue, payload)
      })

    yield* Effect.forEach(new Set(destinations), queueFor, { discard: true })
    return {
      send: (urls, payload) =>
        Effect.forEach(new Set(urls), (url) => enqueue(url, payload), { discard: true }),
    }
  })
