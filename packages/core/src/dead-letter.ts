/**
 * Why a record was refused: one definition for the decode stage, the sink, the dead-letter
 * headers (`dlq.reason`), /metrics labels, the chaos suite and the README.
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

export const DEAD_LETTER_REASONS = Object.keys(deadLetterReasons) as ReadonlyArray<DeadLetterReason>
