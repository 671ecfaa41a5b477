import { ClickHouseError, messageOf } from "./errors.ts"

/**
 * ClickHouse failures by what a writer should do about them, decided by the engine's error code
 * (https://github.com/ClickHouse/ClickHouse/blob/master/src/Common/ErrorCodes.cpp):
 *   Unavailable  transient: retry with backoff, offsets held (server down, timeouts, memory,
 *                too many parts, replicas or Keeper away)
 *   Rejected     the data is at fault: isolate the rows and dead-letter them
 *   Schema       a missing table or column, or no right to write: fatal, stop with the message
 *   Query        anything else (a bad operator query; for a writer: retried, shown in /health)
 */

const transient = new Set([
  3, // UNEXPECTED_END_OF_FILE (connection cut)
  32, // ATTEMPT_TO_READ_AFTER_EOF
  159, // TIMEOUT_EXCEEDED
  160, // TOO_SLOW
  173, // CANNOT_ALLOCATE_MEMORY
  198, // DNS_ERROR
  202, // TOO_MANY_SIMULTANEOUS_QUERIES
  203, // NO_FREE_CONNECTION
  209, // SOCKET_TIMEOUT
  210, // NETWORK_ERROR
  236, // ABORTED
  241, // MEMORY_LIMIT_EXCEEDED
  242, // TABLE_IS_READ_ONLY (replica lost Keeper)
  243, // NOT_ENOUGH_SPACE
  252, // TOO_MANY_PARTS (but see tooManyPartitions)
  279, // ALL_CONNECTION_TRIES_FAILED
  285, // TOO_FEW_LIVE_REPLICAS
  319, // UNKNOWN_STATUS_OF_INSERT
  394, // QUERY_WAS_CANCELLED
  425, // SYSTEM_ERROR
  999, // KEEPER_EXCEPTION
  1000, // POCO_EXCEPTION
])

const dataAtFault = new Set([
  6, // CANNOT_PARSE_TEXT
  25, // CANNOT_PARSE_ESCAPE_SEQUENCE (e.g. a lone UTF-16 surrogate)
  26, // CANNOT_PARSE_QUOTED_STRING
  27, // CANNOT_PARSE_INPUT_ASSERTION_FAILED
  38, // CANNOT_PARSE_DATE
  41, // CANNOT_PARSE_DATETIME
  53, // TYPE_MISMATCH
  69, // ARGUMENT_OUT_OF_BOUND
  70, // CANNOT_CONVERT_TYPE
  72, // CANNOT_PARSE_NUMBER
  117, // INCORRECT_DATA
  131, // TOO_LARGE_STRING_SIZE
  321, // VALUE_IS_OUT_OF_RANGE_OF_DATA_TYPE
  349, // CANNOT_INSERT_NULL_IN_ORDINARY_COLUMN
  441, // CANNOT_PARSE_UUID
  469, // VIOLATED_CONSTRAINT
])

const schemaOrAccess = new Set([
  8, // THERE_IS_NO_COLUMN
  10, // NOT_FOUND_COLUMN_IN_BLOCK
  16, // NO_SUCH_COLUMN_IN_TABLE
  47, // UNKNOWN_IDENTIFIER
  60, // UNKNOWN_TABLE
  81, // UNKNOWN_DATABASE
  164, // READONLY
  192, // UNKNOWN_USER
  193, // WRONG_PASSWORD
  194, // REQUIRED_PASSWORD
  497, // ACCESS_DENIED
  516, // AUTHENTICATION_FAILED
])

// The same code (TOO_MANY_PARTS) also means "this INSERT spans too many partitions": the data's
// shape, not the server's state, so splitting the batch is what helps.
const tooManyPartitions = /too many partitions for single insert block/i
const locked = /cannot lock file|another server instance/i
const network =
  /ECONNREFUSED|ECONNRESET|ETIMEDOUT|EPIPE|EHOSTUNREACH|ENOTFOUND|socket hang up|Timeout error|closed/i

/** The engine's numeric error code: @clickhouse/client's `code`, or "Code: N." in the message. */
const clickhouseErrorCode = (cause: unknown): number | undefined => {
  const code = (cause as { code?: unknown } | null)?.code
  if (typeof code === "string" && /^\d+$/.test(code)) return Number(code)
  if (typeof code === "number") return code
  const m = /\bCode: (\d+)\b/.exec(messageOf(cause))
  return m?.[1] === undefined ? undefined : Number(m[1])
}

export const classifyClickHouseError = (cause: unknown): ClickHouseError => {
  const message = messageOf(cause)
  const code = clickhouseErrorCode(cause)
  const reason: ClickHouseError["reason"] = locked.test(message)
    ? "Locked"
    : code === undefined
      ? network.test(message)
        ? "Unavailable"
        : "Query"
      : dataAtFault.has(code) || (code === 252 && tooManyPartitions.test(message))
        ? "Rejected"
        : transient.has(code)
          ? "Unavailable"
          : schemaOrAccess.has(code)
            ? "Schema"
            : "Query"
  return new ClickHouseError({ reason, message, ...(code === undefined ? {} : { code }), cause })
}
