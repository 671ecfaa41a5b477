/**
 * Checks on parsed JSON that protect everything downstream: a value nested thousands deep makes
 * recursive code (JSON.stringify, error formatters) overflow the stack, and a lone UTF-16
 * surrogate (valid JSON: "\ud800") makes ClickHouse refuse the whole insert.
 */

/** What a message may hold. Read from the environment (config.ts); these are the defaults. */
export interface DecodeLimits {
  /** Largest message value in bytes (MESSAGE_MAX_BYTES). */
  readonly maxMessageBytes: number
  /** Largest `properties`, as the JSON stored in raw_events, in UTF-8 bytes (PROPERTIES_MAX_BYTES). */
  readonly maxPropertiesBytes: number
  /** Deepest nesting of `properties`, the object itself being level 1 (PROPERTIES_MAX_DEPTH). */
  readonly maxPropertiesDepth: number
}

export const defaultDecodeLimits: DecodeLimits = {
  maxMessageBytes: 256 * 1024,
  maxPropertiesBytes: 64 * 1024,
  maxPropertiesDepth: 32,
}

/**
 * C0 and C1 controls, DEL, line/paragraph separators and bidirectional overrides: none belongs in
 * an identifier or a dimension, and each can corrupt a terminal, a log line or a dashboard label.
 */
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is its purpose
export const controlCharacters = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/

/** True when `value` nests arrays/objects more than `max` levels deep (a scalar is level 0). */
export const nestedDeeperThan = (value: unknown, max: number): boolean => {
  // Iterative, so the check itself cannot overflow the stack.
  const stack: Array<readonly [unknown, number]> = [[value, 0]]
  while (stack.length > 0) {
    const [v, depth] = stack.pop() as readonly [unknown, number]
    if (typeof v !== "object" || v === null) continue
    if (depth + 1 > max) return true
    for (const child of Array.isArray(v) ? v : Object.values(v)) stack.push([child, depth + 1])
  }
  return false
}

/** True when every string in `value`, object keys included, is well-formed UTF-16. */
export const wellFormedDeep = (value: unknown): boolean => {
  const stack: Array<unknown> = [value]
  while (stack.length > 0) {
    const v = stack.pop()
    if (typeof v === "string") {
      if (!v.isWellFormed()) return false
    } else if (Array.isArray(v)) {
      for (const child of v) stack.push(child)
    } else if (typeof v === "object" && v !== null) {
      for (const [key, child] of Object.entries(v)) {
        if (!key.isWellFormed()) return false
        stack.push(child)
      }
    }
  }
  return true
}

/** UTF-8 length of a string, skipping the exact count when it cannot exceed `max`. */
export const utf8LengthExceeds = (text: string, max: number): boolean =>
  text.length * 3 > max && Buffer.byteLength(text, "utf8") > max
