import * as fs from "node:fs"
import * as path from "node:path"
import { Effect } from "effect"
import { renderChart } from "./chart.ts"
import { BenchError } from "./procs.ts"
import { type BenchResult, encodeResult } from "./results.ts"
import { renderSummary } from "./summary.ts"

/** Writes <dir>/<stamp>.json (schema-checked), .svg and .md; returns the paths and the Markdown. */
export const writeResults = (dir: string, stamp: string, result: BenchResult) =>
  Effect.try({
    try: () => {
      fs.mkdirSync(dir, { recursive: true })
      const base = path.join(dir, stamp)
      const markdown = renderSummary(result)
      fs.writeFileSync(`${base}.json`, `${JSON.stringify(encodeResult(result), null, 2)}\n`)
      fs.writeFileSync(`${base}.svg`, renderChart(result))
      fs.writeFileSync(`${base}.md`, markdown)
      return { files: [`${base}.json`, `${base}.svg`, `${base}.md`], markdown }
    },
    catch: (e) =>
      new BenchError({ message: `writing results: ${e instanceof Error ? e.message : String(e)}` }),
  })
