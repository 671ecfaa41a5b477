/**
 * Client side of the processor's operator endpoint (packages/processor/src/http.ts), shared by
 * the CLI, the chaos suite and the benchmark: while the processor runs it holds the embedded
 * store, so queries go through its read-only POST /query route.
 */

export interface ProcessorQueryOptions {
  /** ClickHouse output format, unless the SQL names its own (the route's default is PrettyCompactMonoBlock). */
  readonly format?: string
  readonly token?: string | undefined
  readonly timeoutMs?: number
}

/** Runs one SQL text; resolves to the formatted output, rejects with ClickHouse's message. */
export const postProcessorQuery = async (
  base: string,
  sql: string,
  options: ProcessorQueryOptions = {},
): Promise<string> => {
  const query = options.format === undefined ? "" : `?format=${encodeURIComponent(options.format)}`
  const response = await fetch(`${base}/query${query}`, {
    method: "POST",
    body: sql,
    headers: options.token === undefined ? {} : { authorization: `Bearer ${options.token}` },
    ...(options.timeoutMs === undefined ? {} : { signal: AbortSignal.timeout(options.timeoutMs) }),
  })
  const text = await response.text()
  if (!response.ok) throw new Error(text.trim())
  return text
}

/** Rows of a JSONEachRow output. */
export const parseJsonEachRow = (text: string): Array<Record<string, unknown>> =>
  text
    .split("\n")
    .filter((line) => line.trim() !== "")
    .map((line) => JSON.parse(line) as Record<string, unknown>)

/** Whether a processor answers /health at `base` within `timeoutMs`. */
export const processorHealthy = (base: string, timeoutMs = 1_000): Promise<boolean> =>
  fetch(`${base}/health`, { signal: AbortSignal.timeout(timeoutMs) }).then(
    (r) => r.ok,
    () => false,
  )
