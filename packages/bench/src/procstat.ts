import * as fs from "node:fs"
import * as path from "node:path"

/**
 * Process facts from /proc: CPU time (utime + stime, in clock ticks) from /proc/<pid>/stat, peak
 * and current resident memory from /proc/<pid>/status (VmHWM / VmRSS), and CPU per thread name
 * from /proc/<pid>/task/<tid>/stat (which part of a process burned the CPU: the JS main thread,
 * V8's GC helpers, libuv workers, or the embedded ClickHouse engine's own threads).
 */

export interface CpuTimes {
  readonly utime: number
  readonly stime: number
}

/** utime/stime of a /proc/<pid>/stat line; the command name may hold spaces and parentheses. */
export const parseStat = (text: string): CpuTimes | undefined => {
  const close = text.lastIndexOf(")")
  if (close < 0) return undefined
  // After ")": state(3) ppid(4) ... utime(14) stime(15) -> indexes 11 and 12 of the rest.
  const rest = text
    .slice(close + 1)
    .trim()
    .split(/\s+/)
  const utime = Number(rest[11])
  const stime = Number(rest[12])
  return Number.isFinite(utime) && Number.isFinite(stime) ? { utime, stime } : undefined
}

export interface MemoryKb {
  readonly hwmKb: number
  readonly rssKb: number
  /** Anonymous resident memory (heaps, malloc): RSS without mapped files such as libchdb.so. */
  readonly anonKb: number
  /** Resident pages of mapped files (shared library code, e.g. the 550 MB libchdb.so). */
  readonly fileKb: number
}

/** VmHWM (peak resident set), VmRSS, RssAnon and RssFile of a /proc/<pid>/status text, in kB. */
export const parseStatus = (text: string): MemoryKb | undefined => {
  const field = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+)\\s+kB`, "m").exec(text)?.[1])
  const hwmKb = field("VmHWM")
  const rssKb = field("VmRSS")
  const anonKb = field("RssAnon")
  const fileKb = field("RssFile")
  if (!Number.isFinite(hwmKb) || !Number.isFinite(rssKb)) return undefined
  return {
    hwmKb,
    rssKb,
    anonKb: Number.isFinite(anonKb) ? anonKb : 0,
    fileKb: Number.isFinite(fileKb) ? fileKb : 0,
  }
}

const readOr = (file: string): string | undefined => {
  try {
    return fs.readFileSync(file, "utf8")
  } catch {
    return undefined
  }
}

/** Total CPU ticks (user + system) of a live process; undefined once it is gone. */
export const cpuTicks = (pid: number): number | undefined => {
  const times = parseStat(readOr(`/proc/${pid}/stat`) ?? "")
  return times === undefined ? undefined : times.utime + times.stime
}

export const memory = (pid: number): MemoryKb | undefined => parseStatus(readOr(`/proc/${pid}/status`) ?? "")

/**
 * Thread names are cut to 15 characters by the kernel and often end in a number (pool slot);
 * the digits are folded so a pool's threads add up under one name.
 */
export const threadGroup = (comm: string): string => comm.trim().replace(/[\d:]+$/, "") || comm.trim()

/** CPU ticks per thread group of a live process. */
export const threadTicks = (pid: number): ReadonlyMap<string, number> => {
  const groups = new Map<string, number>()
  let tids: Array<string> = []
  try {
    tids = fs.readdirSync(`/proc/${pid}/task`)
  } catch {
    return groups
  }
  for (const tid of tids) {
    const dir = path.join(`/proc/${pid}/task`, tid)
    const times = parseStat(readOr(path.join(dir, "stat")) ?? "")
    const comm = readOr(path.join(dir, "comm"))
    if (times === undefined || comm === undefined) continue
    const name = threadGroup(comm)
    groups.set(name, (groups.get(name) ?? 0) + times.utime + times.stime)
  }
  return groups
}

/** Per-group difference of two thread snapshots (threads that ended in between are lost). */
export const diffTicks = (
  before: ReadonlyMap<string, number>,
  after: ReadonlyMap<string, number>,
): ReadonlyMap<string, number> => {
  const out = new Map<string, number>()
  for (const [name, ticks] of after) {
    const d = ticks - (before.get(name) ?? 0)
    if (d > 0) out.set(name, d)
  }
  return out
}

/** The kernel's clock ticks per second (USER_HZ); 100 on every mainstream Linux build. */
export const CLOCK_TICKS = 100

/** The whole machine's CPU: busy and total clock ticks of all cores (/proc/stat's `cpu` line). */
export const parseProcStat = (text: string): { busy: number; total: number } | undefined => {
  const fields = /^cpu\s+([\d\s]+)$/m.exec(text)?.[1]?.trim().split(/\s+/).map(Number)
  if (fields === undefined || fields.length < 5 || fields.some((x) => !Number.isFinite(x))) return undefined
  // user nice system idle iowait irq softirq steal (guest time is already in user and nice).
  const total = fields.slice(0, 8).reduce((a, b) => a + b, 0)
  const idle = (fields[3] ?? 0) + (fields[4] ?? 0)
  return { busy: total - idle, total }
}

/** Microseconds during which some runnable task waited for a CPU (/proc/pressure/cpu), or -1. */
export const parseCpuPressure = (text: string): number => {
  const total = Number(/^some\b.*\btotal=(\d+)/m.exec(text)?.[1])
  return Number.isFinite(total) ? total : -1
}

export const machineCpu = () => ({
  busyTicks: parseProcStat(readOr("/proc/stat") ?? "")?.busy ?? -1,
  pressureUs: parseCpuPressure(readOr("/proc/pressure/cpu") ?? ""),
})
