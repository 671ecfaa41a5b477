import * as fs from "node:fs"
import * as path from "node:path"
import { Effect } from "effect"
import { drainRun } from "../src/drain.ts"
import { BenchError } from "../src/procs.ts"
import type { Profile } from "../src/results.ts"
import { type BenchContext, processor } from "../src/systems.ts"
import { type CpuProfile, summarizeProfile } from "./profile-digest.ts"
import { runExperiment } from "./run.ts"

/**
 * The processor draining the backlog under `node --cpu-prof` (the profiler costs a few percent),
 * stopped with SIGTERM so that node writes the profile, then summarized by stage (profile-digest.ts).
 * The .cpuprofile is kept under bench/results/tmp (not committed) for a flame-graph viewer.
 */
export const profileRun = (ctx: BenchContext, topic: string, events: number, tag: string) =>
  Effect.gen(function* () {
    const dir = ctx.dirFor("cpu-profile")
    const {
      results: [result],
    } = yield* drainRun(ctx, processor, topic, events, {
      group: `${tag}-profile`,
      label: "processor (--cpu-prof)",
      nodeFlags: ["--cpu-prof", `--cpu-prof-dir=${dir}`, "--cpu-prof-interval=500"],
    })
    const file = fs
      .readdirSync(dir)
      .filter((f) => f.endsWith(".cpuprofile"))
      .map((f) => path.join(dir, f))
      .sort((a, b) => fs.statSync(b).size - fs.statSync(a).size)[0]
    if (file === undefined) return yield* new BenchError({ message: `no .cpuprofile written in ${dir}` })
    const profile = JSON.parse(fs.readFileSync(file, "utf8")) as CpuProfile
    const summary = summarizeProfile(profile, 25)
    yield* ctx.log(
      `profile: ${summary.stages
        .slice(0, 6)
        .map((s) => `${s.stage} ${s.pct}%`)
        .join(", ")}`,
    )
    return {
      file,
      events,
      sampledMs: summary.sampledMs,
      busyMs: summary.busyMs,
      stages: summary.stages,
      topFrames: summary.topFrames,
      threadsCores: result?.threadsCores ?? {},
    } satisfies Profile
  })

// Only when run as a program: tests import the pure parts.
if (import.meta.main)
  runExperiment(
    "cpu-profile",
    "the processor draining the backlog under node --cpu-prof, time by pipeline stage",
    ({ ctx, topic, events, tag }) =>
      Effect.gen(function* () {
        const profile = yield* profileRun(ctx, topic, events, tag)
        const keep = path.join(ctx.root, "bench/results/tmp", `${tag}-processor.cpuprofile`)
        fs.mkdirSync(path.dirname(keep), { recursive: true })
        fs.copyFileSync(profile.file, keep)
        return { ...profile, file: path.relative(ctx.root, keep) }
      }),
  )
