import { mulberry32 } from "@rtoa/producer"

/**
 * A chaos run's shape. `ci` fits the CI budget; `full` is the acceptance run; `cluster`
 * runs on a 3-node cluster and injects the cluster's faults.
 */
export interface Profile {
  readonly name: string
  readonly events: number
  readonly rate: number
  readonly kills: number
  readonly brokerRestart: boolean
  readonly duplicateRatio: number
  readonly malformedRatio: number
  /** Hostile records from the producer's corpus (bad bytes, lone surrogates, deep values...). */
  readonly poisonRatio: number
  /**
   * Brokers: 1, or 3 for the `cluster` profile, whose faults are the cluster's (cluster.ts: leader
   * and coordinator SIGKILLs, a rolling restart, partition growth) with `kills` processor kills
   * between them, instead of kills at random moments.
   */
  readonly nodes: 1 | 3
}

export const profiles: Record<string, Profile> = {
  // Kills are ~12 s apart: a SIGKILLed member holds its partitions until the group's session
  // timeout (10 s) expires, and each processor should work a while before it is killed.
  ci: {
    name: "ci",
    events: 60_000,
    rate: 1_000,
    kills: 5,
    brokerRestart: true,
    duplicateRatio: 0.05,
    malformedRatio: 0.01,
    poisonRatio: 0.005,
    nodes: 1,
  },
  full: {
    name: "full",
    events: 200_000,
    rate: 2_500,
    kills: 6,
    brokerRestart: true,
    duplicateRatio: 0.05,
    malformedRatio: 0.01,
    poisonRatio: 0.005,
    nodes: 1,
  },
  // Six minutes of traffic: the four cluster faults and three processor kills one after another
  // (each waits until the processor commits on every partition again) take about five on 2 cores.
  cluster: {
    name: "cluster",
    events: 288_000,
    rate: 800,
    kills: 3,
    brokerRestart: false,
    duplicateRatio: 0.05,
    malformedRatio: 0.01,
    poisonRatio: 0.005,
    nodes: 3,
  },
}

export interface Schedule {
  /** Milliseconds after the producer starts at which the processor is SIGKILLed. */
  readonly killsAt: ReadonlyArray<number>
  readonly brokerRestartAt: number | undefined
  /** Group members per processor start, cycling: 1 to 3 members means rebalances. */
  readonly consumers: ReadonlyArray<number>
}

/**
 * Kill moments spread over the production window (random within equal slices, so they never
 * bunch up), and the broker restart between two of them.
 */
export const makeSchedule = (profile: Profile, seed: number): Schedule => {
  const next = mulberry32(seed)
  const window = (profile.events / profile.rate) * 1_000
  const slice = (window * 0.9) / profile.kills
  const killsAt = Array.from({ length: profile.kills }, (_, i) =>
    Math.round(window * 0.05 + slice * (i + 0.2 + next() * 0.6)),
  )
  const consumers = Array.from({ length: profile.kills + 1 }, () => 1 + Math.floor(next() * 3))
  consumers[1] = 3
  return {
    killsAt,
    brokerRestartAt: profile.brokerRestart ? Math.round(window * (0.45 + next() * 0.1)) : undefined,
    consumers,
  }
}
