import { Context, Data, Effect, Layer } from "effect"
import { type ClickHouseClient, ClickHouseReadOnly, type QueryBytes } from "./clickhouse.ts"
import type { ClickHouseError } from "./errors.ts"

/**
 * What an operator may run through the processor's read-only endpoint, decided by the engine's
 * own parser rather than by regexes: `formatQuerySingleLine` parses the text (refusing syntax
 * errors and multi-statements) and prints it back normalised; `EXPLAIN AST` of that single
 * statement gives its tree without running it. Allowed: SELECT, SHOW, DESCRIBE, SHOW CREATE,
 * EXISTS and EXPLAIN, without INTO OUTFILE and without a SETTINGS clause; a FORMAT clause is
 * fine (it only shapes the answer). Everything else (USE,
 * SET, DDL, INSERT, SYSTEM, KILL...) is refused before it reaches the session, so no request can
 * change the session for the next one. Table functions and setting changes are also refused by
 * the session itself (readonly=1).
 */
export class QueryRefused extends Data.TaggedError("QueryRefused")<{
  readonly message: string
  /** The engine's code for a syntax (62) or format (73) error; none when the statement's kind is refused. */
  readonly code?: number
}> {}

export interface GuardedQuery {
  /** The normalised statement. */
  readonly sql: string
  /** The statement's kind, e.g. SELECT. */
  readonly kind: string
  /** Its own FORMAT clause, which wins over the requested format. */
  readonly format: string | undefined
}

const kinds: Readonly<Record<string, string>> = {
  SelectWithUnionQuery: "SELECT",
  ShowTables: "SHOW",
  DescribeQuery: "DESCRIBE",
  ShowCreateTableQuery: "SHOW CREATE",
  ExistsTableQuery: "EXISTS",
  Explain: "EXPLAIN",
}
// Their first children are the database and table names, not output clauses.
const namedChildren: Readonly<Record<string, number>> = { ShowCreateTableQuery: 2, ExistsTableQuery: 2 }

interface Node {
  readonly type: string
  /** The rest of the line, e.g. the name of an Identifier. */
  readonly label: string
  readonly children: Array<Node>
}

/** EXPLAIN AST's text (one node per line, one space of indent per level) as a tree. */
const parseAstText = (text: string): Node | undefined => {
  const stack: Array<{ depth: number; node: Node }> = []
  let root: Node | undefined
  for (const line of text.split("\n")) {
    if (line.trim() === "") continue
    const depth = line.length - line.trimStart().length
    const [type = "", ...rest] = line
      .trim()
      .replace(/ \(children \d+\)$/, "")
      .split(" ")
    const node: Node = { type, label: rest.join(" "), children: [] }
    while (stack.length > 0 && (stack[stack.length - 1]?.depth ?? 0) >= depth) stack.pop()
    const parent = stack[stack.length - 1]
    if (parent === undefined) root ??= node
    else parent.node.children.push(node)
    stack.push({ depth, node })
  }
  return root
}

/** Checks the tree of one parsed statement; returns its kind, or why it is refused. */
const checkStatement = (
  root: Node,
): { readonly kind: string; readonly format?: string } | { readonly refused: string } => {
  const kind = kinds[root.type]
  if (kind === undefined)
    return {
      refused: "only SELECT, SHOW, DESCRIBE, SHOW CREATE, EXISTS and EXPLAIN run here (a readonly endpoint)",
    }
  // A statement's own output clauses are its direct children: INTO OUTFILE (and COMPRESSION) as
  // literals, SETTINGS as Set, FORMAT as an identifier.
  const clauses = root.children.slice(namedChildren[root.type] ?? 0)
  if (clauses.some((c) => c.type === "Literal"))
    return { refused: "INTO OUTFILE is not allowed: results only go back to the caller" }
  if (kind !== "EXPLAIN" && clauses.some((c) => c.type === "Set"))
    return { refused: "a SETTINGS clause is not allowed: the endpoint's limits apply to every query" }
  // FORMAT is the last clause, but so is a database (SHOW TABLES FROM db): the caller checks the text.
  const last = clauses[clauses.length - 1]
  return last?.type === "Identifier" ? { kind, format: last.label } : { kind }
}

const formatName = /^[A-Za-z0-9]+$/

/**
 * Parses `sql` with the engine and returns the statement to run, or QueryRefused with why.
 * `format` (the output unless the statement names its own) must be one of the engine's.
 */
const guardReadQuery = (
  ch: ClickHouseClient,
  sql: string,
  format: string,
  outputFormats: ReadonlySet<string>,
  params?: Readonly<Record<string, string>>,
): Effect.Effect<GuardedQuery, QueryRefused | ClickHouseError> =>
  Effect.gen(function* () {
    if (!formatName.test(format) || !outputFormats.has(format))
      return yield* new QueryRefused({ message: `unknown output format: ${format.slice(0, 64)}`, code: 73 })
    if (sql.trim() === "") return yield* new QueryRefused({ message: "empty query", code: 62 })
    const [row] = yield* ch
      .query<{ q: string }>("SELECT formatQuerySingleLine({q:String}) AS q", { q: sql })
      .pipe(
        Effect.catchIf(
          (e) => e.code === 62,
          (e) =>
            new QueryRefused({
              message: e.message.replace(/: In scope SELECT formatQuerySingleLine\(.*$/s, "").trim(),
              code: 62,
            }),
        ),
      )
    const statement = row?.q ?? ""
    // EXPLAIN AST substitutes `{name:Type}` placeholders, so it needs the statement's parameters.
    const explain = `EXPLAIN AST ${statement}`
    const ast =
      params === undefined
        ? ch.queryText(explain, "TSVRaw")
        : Effect.map(ch.queryBytes(explain, "TSVRaw", params), (r) => r.bytes.toString("utf8"))
    const tree = parseAstText(yield* ast)
    if (tree === undefined)
      return yield* new QueryRefused({ message: "the statement could not be parsed", code: 62 })
    const checked = checkStatement(tree)
    if ("refused" in checked) return yield* new QueryRefused({ message: checked.refused })
    const own = checked.format !== undefined && statement.endsWith(` FORMAT ${checked.format}`)
    return { sql: statement, kind: checked.kind, format: own ? checked.format : undefined }
  })

/** Operator queries: parsed and checked (guardReadQuery), then run on the read-only session. */
export interface ReadQueriesService {
  readonly run: (sql: string, format: string) => Effect.Effect<string, QueryRefused | ClickHouseError>
  /**
   * The same rules for the ClickHouse HTTP interface: `{name:Type}` parameters (as `param_<name>`
   * carries them), the engine's bytes, and the format they are in (a FORMAT clause wins).
   */
  readonly runBytes: (
    sql: string,
    format: string,
    params: Readonly<Record<string, string>>,
  ) => Effect.Effect<ReadResult, QueryRefused | ClickHouseError>
}

export interface ReadResult extends QueryBytes {
  readonly format: string
}

export class ReadQueries extends Context.Tag("rtoa/ReadQueries")<ReadQueries, ReadQueriesService>() {}

export const makeReadQueries = (ch: ClickHouseClient) =>
  Effect.gen(function* () {
    const formats = yield* ch.query<{ name: string }>("SELECT name FROM system.formats WHERE is_output")
    const outputFormats = new Set(formats.map((f) => f.name))
    const service: ReadQueriesService = {
      run: (sql, format) =>
        Effect.flatMap(guardReadQuery(ch, sql, format, outputFormats), (q) => ch.queryText(q.sql, format)),
      runBytes: (sql, format, params) =>
        Effect.flatMap(guardReadQuery(ch, sql, format, outputFormats, params), (q) =>
          Effect.map(ch.queryBytes(q.sql, format, params), (r) => ({ ...r, format: q.format ?? format })),
        ),
    }
    return service
  })

export const ReadQueriesLive: Layer.Layer<ReadQueries, ClickHouseError, ClickHouseReadOnly> = Layer.effect(
  ReadQueries,
  Effect.flatMap(ClickHouseReadOnly, makeReadQueries),
)

// An absolute path in an engine message (data directories, table UUID paths) stays on the server.
const absolutePath = /(^|[\s'"`(=])\/[^\s'"`),]+/g

/** An engine error as a caller may see it: no stack trace, no file-system path, bounded. */
export const publicMessage = (message: string): string =>
  message
    .replace(/\s*Stack trace[\s\S]*$/i, "")
    .replace(absolutePath, (_, lead: string) => `${lead}<path>`)
    .trim()
    .slice(0, 2_000)
