import * as path from "node:path"

/** Where `pnpm --filter @rtoa/dashboard build` (run by make setup) writes the bundled page. */
export const dashboardDist = path.join(import.meta.dirname, "..", "dist")
