/**
 * Bundles the console (web/) into dist/: index.html, app.js (minified, uPlot inside) and app.css
 * (uPlot's stylesheet and ours). Only installed packages are read, so it works offline; the page
 * loads nothing from elsewhere. Run by `pnpm --filter @rtoa/dashboard build` (make setup).
 */
import { copyFile, mkdir, readdir, readFile, rm } from "node:fs/promises"
import * as path from "node:path"
import { gzipSync } from "node:zlib"
import * as esbuild from "esbuild"

const root = path.join(import.meta.dirname, "..")
const web = path.join(root, "web")
const dist = path.join(root, "dist")

await rm(dist, { recursive: true, force: true })
await mkdir(dist, { recursive: true })

const result = await esbuild.build({
  entryPoints: [
    { in: path.join(web, "main.ts"), out: "app" },
    { in: path.join(web, "app.css"), out: "app" },
  ],
  outdir: dist,
  bundle: true,
  minify: true,
  format: "iife",
  platform: "browser",
  target: ["es2022", "chrome110", "firefox115", "safari16"],
  charset: "utf8",
  // uPlot's licence header is a plain comment that minifying drops; MIT asks to keep the notice.
  legalComments: "none",
  banner: { js: "/*! uPlot 1.6.32 (c) 2025 Leon Sorokin, MIT License */" },
  metafile: true,
  logLevel: "warning",
})

// The API types come from src/api.ts as `import type`: effect must never reach the browser.
const leaked = Object.keys(result.metafile.inputs).filter((p) =>
  /node_modules[\\/](effect|@effect)[\\/]/.test(p),
)
if (leaked.length > 0) {
  console.error(
    `dashboard build: effect code in the bundle (use import type): ${leaked.slice(0, 3).join(", ")}`,
  )
  process.exit(1)
}

await copyFile(path.join(web, "index.html"), path.join(dist, "index.html"))

const kb = (n: number): string => `${(n / 1024).toFixed(1)} KB`
for (const name of (await readdir(dist)).sort()) {
  const body = await readFile(path.join(dist, name))
  console.log(`dist/${name.padEnd(11)} ${kb(body.length).padStart(9)}  (gzip ${kb(gzipSync(body).length)})`)
}
