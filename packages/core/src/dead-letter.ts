/**
 * Why a record was refused, and what each reason means: the one list the decode stage, the sink,
 * the dead-letter headers (`dlq.reason`) and the /metrics labels take their reasons from (the
 * README's table describes the same reasons for readers).
 */
export const deadLetterReasons = {
  empty: "tombstone (null value) or empty value",
  message_too_large: "the message is larger than MESSAGE_MAX_BYTES",
  invalid_encoding: "not valid UTF-8, or a string with a lone UTF-16 surrogate",
  undecodable: "not JSON",
  too_deep: "JSON nested deeper than PROPERTIES_MAX_DEPTH",
  control_characters: "an identifier or dimension holds control or bidirectional-override characters",
  properties_too_large: "properties serialise to more than PROPERTIES_MAX_BYTES",
  invalid: "breaks the event contract (missing field, wrong type, length, time format)",
  event_time_out_of_range: "event_time before 2000-01-01 or from 2100-01-01 on",
  event_time_in_future: "event_time more than MAX_CLOCK_SKEW_MS ahead of the processor clock",
  rejected_by_clickhouse: "ClickHouse refused the row (data error); the engine's message is in dlq.detail",
} as const

export type DeadLetterReason = keyof typeof deadLetterReasons

// Control, bidirectional-override and replacement characters (the last marks bytes that were not UTF-8).
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is its purpose
const unsafe = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufffd]/g

/**
 * A payload as text that is safe to print in a terminal or a log line: decoded leniently as
 * UTF-8, every control or bidirectional-override character written as an escape (no terminal
 * escape sequence survives), cut to `max` characters. Pages still escape it as HTML.
 */
export const safePreview = (value: Buffer | null, max = 300): string => {
  if (value === null) return "(null)"
  const text = value.subarray(0, max * 4).toString("utf8")
  const cut = text.length > max ? `${text.slice(0, max)}…` : text
  return cut.replace(unsafe, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`)
}
