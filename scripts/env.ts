// Settings for the shell scripts and the Makefile, read exactly as the programs read them
// (packages/core/src/dotenv.ts: the environment wins over .env). Prints one shell assignment per
// requested key that has a value, quoted for `eval`:
//   eval "$(node scripts/env.ts DATA_DIR KAFKA_BROKERS)"
import { settingsFromEnv } from "../packages/core/src/dotenv.ts"

const quote = (v: string) => `'${v.replace(/'/g, `'\\''`)}'`
const settings = settingsFromEnv()
for (const key of process.argv.slice(2)) {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(key)) throw new Error(`not a variable name: ${key}`)
  const value = settings.get(key)
  if (value !== undefined) process.stdout.write(`${key}=${quote(value)}\n`)
}
