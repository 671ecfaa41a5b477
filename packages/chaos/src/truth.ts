import * as fs from "node:fs"
import * as readline from "node:readline"

/** What the producer's ground-truth log says ClickHouse must hold. */
export interface Expected {
  readonly sent: number
  readonly validDistinct: number
  /** The distinct valid event_ids, to name the missing and extra ones when counts differ. */
  readonly ids: ReadonlySet<string>
  readonly duplicates: number
  readonly malformed: number
  /** Sends abandoned by the producer: the broker may or may not have them. */
  readonly unacked: number
  /** 'YYYY-MM-DD hh:mm:00' (UTC) -> distinct events and users in that minute. */
  readonly perMinute: ReadonlyMap<string, { readonly events: number; readonly users: number }>
}

interface TruthLine {
  readonly kind: "valid" | "duplicate" | "malformed"
  readonly event_id?: string
  readonly user_id?: string
  readonly minute?: string
  readonly unacked?: boolean
}

/** Reads the JSON Lines truth log (packages/producer/src/truth.ts) into expectations. */
export const readTruth = async (file: string): Promise<Expected> => {
  const ids = new Set<string>()
  const minutes = new Map<string, { events: Set<string>; users: Set<string> }>()
  let sent = 0
  let duplicates = 0
  let malformed = 0
  let unacked = 0
  const lines = readline.createInterface({
    input: fs.createReadStream(file, "utf8"),
    crlfDelay: Number.POSITIVE_INFINITY,
  })
  for await (const text of lines) {
    if (text.trim() === "") continue
    const line = JSON.parse(text) as TruthLine
    sent += 1
    if (line.unacked === true) unacked += 1
    if (line.kind === "malformed") {
      malformed += 1
      continue
    }
    if (line.kind === "duplicate") duplicates += 1
    if (line.event_id === undefined || line.user_id === undefined || line.minute === undefined) continue
    ids.add(line.event_id)
    const minute = line.minute.slice(0, 19).replace("T", " ")
    let m = minutes.get(minute)
    if (m === undefined) {
      m = { events: new Set(), users: new Set() }
      minutes.set(minute, m)
    }
    m.events.add(line.event_id)
    m.users.add(line.user_id)
  }
  const perMinute = new Map([...minutes].map(([k, v]) => [k, { events: v.events.size, users: v.users.size }]))
  return { sent, validDistinct: ids.size, ids, duplicates, malformed, unacked, perMinute }
}
