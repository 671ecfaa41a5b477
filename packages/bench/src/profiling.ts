import * as fs from "node:fs"
import * as path from "node:path"
import { Effect } from "effect"
import { drainRun } from "./drain.ts"
import { BenchError } from "./procs.ts"
import { type CpuProfile, summarizeProfile } from "./profile.ts"
import type { Profile } from "./results.ts"
import { type BenchContext, processor } from "./systems.ts"

/**
 * The processor draining the backlog under `node --cpu-prof` (a separate run: the profiler costs a
 * few percent), stopped with SIGTERM so that node writes the profile, then summarized by stage.
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
