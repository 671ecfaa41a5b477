import * as fs from "node:fs"
import * as path from "node:path"
import { renderVerdict, type Verdict } from "./verdict.ts"

/** The last `n` lines of a text file (from its last 256 KiB); none if it does not exist. */
export const tailLines = (file: string, n: number): Array<string> => {
  let fd: number
  try {
    fd = fs.openSync(file, "r")
  } catch {
    return []
  }
  try {
    const size = fs.fstatSync(fd).size
    const length = Math.min(size, 256 * 1024)
    const buffer = Buffer.alloc(length)
    fs.readSync(fd, buffer, 0, length, size - length)
    const lines = buffer.toString("utf8").split("\n")
    if (lines.at(-1) === "") lines.pop()
    return lines.slice(-n)
  } finally {
    fs.closeSync(fd)
  }
}

// Stack frames (kafkajs logs one per retry) would crowd out the lines that say what happened.
const stackFrame = /^\s+at /

/** Logs a verdict quotes the end of, by the name shown, without stack frames. */
export const logTails = (work: string, n = 25): Record<string, ReadonlyArray<string>> =>
  Object.fromEntries(
    ["processor.log", "producer.log", "broker.log"].map((name) => [
      name,
      tailLines(path.join(work, name), n * 8)
        .filter((l) => !stackFrame.test(l))
        .slice(-n),
    ]),
  )

export const verdictFiles = (work: string) => ({
  text: path.join(work, "verdict.txt"),
  json: path.join(work, "verdict.json"),
})

/** Writes verdict.txt and verdict.json into the work directory; returns the text. */
export const writeVerdict = (verdict: Verdict): string => {
  const files = verdictFiles(verdict.work)
  const text = renderVerdict(verdict)
  fs.writeFileSync(files.text, text)
  fs.writeFileSync(files.json, `${JSON.stringify(verdict, null, 2)}\n`)
  return text
}

/** Keeps the broker's log in the work directory: the broker's own data dir is deleted afterwards. */
export const keepBrokerLog = (kafkaDataDir: string, work: string): void => {
  try {
    fs.copyFileSync(path.join(kafkaDataDir, "kafka", "kafka.log"), path.join(work, "broker.log"))
  } catch {
    // No broker log (it never started): nothing to keep.
  }
}
