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

/**
 * Keeps the brokers' logs in the work directory (broker.log; broker-N.log for a cluster's node N):
 * the brokers' own data dir is deleted afterwards.
 */
export const keepBrokerLog = (kafkaDataDir: string, work: string): void => {
  const logs: Array<[string, string]> = [["kafka.log", "broker.log"]]
  for (const n of [1, 2, 3]) logs.push([path.join(`node-${n}`, "kafka.log"), `broker-${n}.log`])
  for (const [from, to] of logs) {
    try {
      fs.copyFileSync(path.join(kafkaDataDir, "kafka", from), path.join(work, to))
    } catch {
      // No such log (that broker never started, or this is not a cluster): nothing to keep.
    }
  }
}
