/**
 * The event dimensions: the one list the event contract, the processor's grouping, the per-minute
 * tables' keys, the rebuild and rollup SQL and the benchmark's peer are built from. A dimension's
 * `column` is both its field in an event and its column in every table that keeps it; the list's
 * order is the order of the per-minute tables' sorting keys (db/002_metrics_minutely.sql).
 *
 * `rollupBit` is the dimension's bit in metrics_minutely_rollup.grouped (db/006): stored in rows,
 * so it never changes. A new dimension takes the next power of two.
 *
 * Adding one: an entry here, a migration adding its column to the tables that keep every
 * dimension (packages/core/test/tables.it.test.ts says which, and fails until it agrees), and its
 * values in the producer's traffic if it should be simulated.
 */
export const DIMENSIONS = [
  {
    name: "channel",
    column: "dimension_channel",
    description: "Channel, e.g. Web, Mobile, API, Partner.",
    rollupBit: 4,
  },
  {
    name: "source",
    column: "event_source",
    description: "Emitting system, e.g. web-frontend, ios-app.",
    rollupBit: 2,
  },
  {
    name: "type",
    column: "event_type",
    description: "What happened, e.g. page_view, click, purchase.",
    rollupBit: 1,
  },
] as const

/** What an event that leaves a dimension out holds there (the contract's default). */
export const DIMENSION_DEFAULT = "unknown"

export type Dimension = (typeof DIMENSIONS)[number]
export type DimensionName = Dimension["name"]
export type DimensionColumn = Dimension["column"]

/** An event's or a row's dimension values, by column. */
export type DimensionValues = { readonly [C in DimensionColumn]: string }

export const DIMENSION_COLUMNS: ReadonlyArray<DimensionColumn> = DIMENSIONS.map((d) => d.column)

/** The dimension columns as a SQL list, in key order: `dimension_channel, event_source, ...`. */
export const DIMENSION_LIST = DIMENSION_COLUMNS.join(", ")

/** Bits of metrics_minutely_rollup.grouped, by dimension name. */
export const GROUPED = Object.fromEntries(DIMENSIONS.map((d) => [d.name, d.rollupBit])) as {
  readonly [D in Dimension as D["name"]]: D["rollupBit"]
}

/** `grouped` of the rows grouped by every dimension (the rows of metrics_minutely_counts). */
export const GROUPED_ALL = DIMENSIONS.reduce((bits, d) => bits | d.rollupBit, 0)

/** The `grouped` value of the rows grouped by these dimensions (an absent one: not grouped). */
export const groupedBy = (dims: { readonly [N in DimensionName]?: boolean }): number =>
  DIMENSIONS.reduce((bits, d) => (dims[d.name] === true ? bits | d.rollupBit : bits), 0)

// Identifiers only: the generated accessors below paste them into code.
for (const c of DIMENSION_COLUMNS) if (!/^[a-z_]+$/.test(c)) throw new Error(`not a column name: ${c}`)

/**
 * A function compiled once at module load from the dimension list, for the hot path: the code
 * reads each dimension by name, as hand-written code would (a loop over the names, per event,
 * would make every property read a keyed lookup).
 */
export const compileOverDimensions = <F>(
  params: ReadonlyArray<string>,
  body: (columns: ReadonlyArray<DimensionColumn>) => string,
): F => new Function(...params, body(DIMENSION_COLUMNS)) as F

/** The dimension values joined by NUL (which a dimension cannot hold): a grouping key. */
export const dimensionKey = compileOverDimensions<(e: DimensionValues) => string>(
  ["e"],
  (cs) => `return ${cs.map((c) => `e.${c}`).join(' + "\\u0000" + ')}`,
)

/** The dimension values of an event or row, as a new object with exactly those fields. */
export const dimensionsOf = compileOverDimensions<(e: DimensionValues) => DimensionValues>(
  ["e"],
  (cs) => `return { ${cs.map((c) => `${c}: e.${c}`).join(", ")} }`,
)
