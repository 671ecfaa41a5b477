import { Command, Options } from "@effect/cli"
import { Console, Effect, type Scope } from "effect"
import { launch } from "../src/cli.ts"
import { benchSession, fillBacklog } from "../src/session.ts"
import type { BenchContext } from "../src/systems.ts"

/**
 * The frame every experiment shares: its own broker (as `make bench`), a 3-partition backlog of
 * --events events, then the experiment's own step; its result is printed as JSON.
 */

export interface Backlog {
  readonly ctx: BenchContext
  readonly topic: string
  readonly events: number
  /** What the producer alone reached filling it (events/s). */
  readonly producerRate: number
  /** Unique per run: prefix of topics and consumer groups. */
  readonly tag: string
}

const options = {
  events: Options.integer("events").pipe(
    Options.withDescription("events in the backlog"),
    Options.withDefault(300_000),
  ),
  brokerPort: Options.integer("broker-port").pipe(
    Options.withDescription("port of the experiment's own broker (controller P+1)"),
    Options.withDefault(19_292),
  ),
  httpPort: Options.integer("http-port").pipe(
    Options.withDescription("first of two HTTP ports (processor, peer)"),
    Options.withDefault(18_391),
  ),
}

export const runExperiment = <Name extends string, A, E>(
  name: Name,
  description: string,
  step: (backlog: Backlog) => Effect.Effect<A, E, Scope.Scope>,
) => {
  const command = Command.make(name, options, (o) =>
    Effect.scoped(
      Effect.gen(function* () {
        const { started, ctx } = yield* benchSession(o.brokerPort, o.httpPort)
        const tag = `${name}-${started.toString(36)}`
        const topic = `${tag}-backlog`
        const filled = yield* fillBacklog(ctx, topic, o.events)
        const result = yield* step({
          ctx,
          topic,
          events: filled.sent,
          producerRate: filled.achievedRate,
          tag,
        })
        yield* Console.log(JSON.stringify(result, null, 2))
      }),
    ),
  ).pipe(Command.withDescription(description))
  launch(command, name)
}
