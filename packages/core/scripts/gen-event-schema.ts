// Writes packages/core/event.schema.json from the effect Schema: `pnpm --filter @rtoa/core gen:schema`.
import * as fs from "node:fs"
import * as path from "node:path"
import { eventJsonSchema } from "../src/event.ts"

const target = path.join(import.meta.dirname, "..", "event.schema.json")
fs.writeFileSync(target, `${JSON.stringify(eventJsonSchema(), null, 2)}\n`)
console.log(`wrote ${target}`)
