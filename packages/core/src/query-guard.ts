import { Data, Effect } from "effect"
import type { ClickHouseClient } from "./clickhouse.ts"
import type { ClickHouseError } from "./errors.ts"

/**
 * What an operator may run through the processor's read-only endpoint, decided by the engine's
 * own parser rather than by regexes: `formatQuerySingleLine` parses the text (refusing syntax
 * errors and multi-statements) and prints it back normalised; `EXPLAIN AST` of that single
 * statement gives its tree without running it. Allowed: SELECT, SHOW, DESCRIBE, SHOW CREATE,
 * EXISTS and EXPLAIN, without INTO OUTFILE and without a SETTINGS clause. Everything else (USE,
 * SET, DDL, INSERT, SYSTEM, KILL...) is refused before it reaches the session, so no request can
 * change the session for the next one. Table functions and setting changes are also refused by
 * the session itself (readonly=1).
 */
export class QueryRefused extends Data.TaggedError("QueryRefused")<{ readonly message: string }> {}

export interface GuardedQuery {
  /** The normalised statement, ending with its FORMAT clause. */
  readonly sql: string
  /** The statement's kind, e.g. SELECT. */
  readonly kind: string
  /** The output format: the statement's own FORMAT, or the requested default. */
  readonly format: string
}

const kinds: Readonly<Record<string, string>> = {
  SelectWithUnionQuery: "SELECT",
  ShowTables: "SHOW",
  DescribeQuery: "DESCRIBE",
  ShowCreateTableQuery: "SHOW CREATE",
  ExistsTableQuery: "EXISTS",
  Explain: "EXPLAIN",
}
// Their first children are the database and table names, not a FORMAT.
const namedChildren: Readonly<Record<string, number>> = { ShowCreateTableQuery: 2, ExistsTableQuery: 2 }

interface Node {
  readonly type: string
  /** The rest of the line, e.g. the name of an Identifier. */
  readonly label: string
  readonly children: Array<Node>
}

/** EXPLAIN AST's text (one node per line, one space of indent per level) as a tree. */
export const parseAstText = (text: string): Node | undefined => {
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

/** Checks the tree of one parsed statement; returns its kind and own FORMAT, or why it is refused. */
export const checkStatement = (
  root: Node,
): { readonly kind: string; readonly format: string | undefined } | { readonly refused: string } => {
  const kind = kinds[root.type]
  if (kind === undefined)
    return {
      refused:
        "only SELECT, SHOW, DESCRIBE, SHOW CREATE, EXISTS and EXPLAIN run here (this endpoint is read-only)",
    }
  // A statement's own output clauses are its direct children: INTO OUTFILE (and COMPRESSION) as
  // literals, SETTINGS as Set, FORMAT as an identifier.
  const clauses = root.children.slice(namedChildren[root.type] ?? 0)
  if (clauses.some((c) => c.type === "Literal"))
    return { refused: "INTO OUTFILE is not allowed: results only go back to the caller" }
  if (kind !== "EXPLAIN" && clauses.some((c) => c.type === "Set"))
    return { refused: "a SETTINGS clause is not allowed: the endpoint's limits apply to every query" }
  const format = clauses.find((c) => c.type === "Identifier")
  return { kind, format: format?.label }
}

const formatName = /^[A-Za-z0-9]+$/

/**
 * Parses `sql` with the engine and returns the statement to run, or QueryRefused with why.
 * `defaultFormat` applies when the statement names none (checked to be an output format).
 */
export const guardReadQuery = (
  ch: ClickHouseClient,
  sql: string,
  defaultFormat: string,
  outputFormats: ReadonlySet<string>,
): Effect.Effect<GuardedQuery, QueryRefused | ClickHouseError> =>
  Effect.gen(function* () {
    if (sql.trim() === "") return yield* new QueryRefused({ message: "empty query" })
    const [row] = yield* ch
      .query<{ q: string }>("SELECT formatQuerySingleLine({q:String}) AS q", { q: sql })
      .pipe(
        Effect.catchIf(
          (e) => e.code === 62,
          (e) =>
            new QueryRefused({
              message: e.message.replace(/: In scope SELECT formatQuerySingleLine\(.*$/s, "").trim(),
            }),
        ),
      )
    const statement = row?.q ?? ""
    const tree = parseAstText(yield* ch.queryText(`EXPLAIN AST ${statement}`, "TSVRaw"))
    if (tree === undefined) return yield* new QueryRefused({ message: "the statement could not be parsed" })
    const checked = checkStatement(tree)
    if ("refused" in checked) return yield* new QueryRefused({ message: checked.refused })
    if (checked.format !== undefined) return { sql: statement, kind: checked.kind, format: checked.format }
    if (!formatName.test(defaultFormat) || !outputFormats.has(defaultFormat))
      return yield* new QueryRefused({ message: `unknown output format: ${defaultFormat.slice(0, 64)}` })
    return { sql: `${statement} FORMAT ${defaultFormat}`, kind: checked.kind, format: defaultFormat }
  })
