/**
 * Query parameters as the ClickHouse HTTP interface carries them: `param_<name>=<value>`, the
 * value in the engine's escaped text form (what @clickhouse/client and clickhouse-connect send).
 * A server takes that text as it is; chDB's binder escapes a string value once more (TSV:
 * backslash, tab, newline...), so for the embedded engine the text is decoded first, knowing the
 * placeholder's type: a scalar is unescaped whole (the engine reads chDB's escaping back to the
 * same value); a composite (Array, Map, Tuple) keeps its literal syntax and only its quoted
 * strings are rewritten into a form chDB's escaping cannot change ('' for a quote, a bare
 * backslash, which the engine reads back as one).
 */

const placeholder = /\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*:\s*([^{}]+?)\s*\}/g

/** The `{name:Type}` placeholders of a statement: name -> declared type (the first one wins). */
export const placeholderTypes = (sql: string): ReadonlyMap<string, string> => {
  const types = new Map<string, string>()
  for (const [, name, type] of sql.matchAll(placeholder))
    if (name !== undefined && type !== undefined && !types.has(name)) types.set(name, type)
  return types
}

// ClickHouse's one-letter escapes (parseEscapeSequence); any other escaped character is itself.
const escapes: Readonly<Record<string, string>> = {
  a: "\x07",
  b: "\b",
  e: "\x1b",
  f: "\f",
  n: "\n",
  r: "\r",
  t: "\t",
  v: "\v",
  "0": "\0",
}

/** ClickHouse escape sequences (\t, \\, \', \xHH...) decoded; undefined if the bytes are not UTF-8. */
export const unescapeParam = (text: string): string | undefined => {
  const parts: Array<Buffer> = []
  let plain = ""
  for (let i = 0; i < text.length; i++) {
    const c = text.charAt(i)
    if (c !== "\\" || i + 1 === text.length) {
      plain += c
      continue
    }
    const next = text.charAt(++i)
    const hex = next === "x" ? /^[0-9a-fA-F]{2}/.exec(text.slice(i + 1, i + 3)) : null
    if (hex === null) plain += escapes[next] ?? next
    else {
      parts.push(Buffer.from(plain), Buffer.from([Number.parseInt(hex[0], 16)]))
      plain = ""
      i += 2
    }
  }
  parts.push(Buffer.from(plain))
  const bytes = Buffer.concat(parts)
  const value = bytes.toString("utf8")
  return Buffer.from(value).equals(bytes) ? value : undefined
}

/** A composite literal with each quoted string re-quoted for chDB; undefined if malformed. */
const requoteComposite = (text: string): string | undefined => {
  let out = ""
  for (let i = 0; i < text.length; i++) {
    const c = text.charAt(i)
    if (c !== "'") {
      // Whitespace between elements: chDB would escape a tab or newline into a backslash sequence.
      out += /[\t\n\r]/.test(c) ? " " : c
      continue
    }
    let body = ""
    let j = i + 1
    for (; j < text.length; j++) {
      const d = text.charAt(j)
      if (d === "\\") body += d + text.charAt(++j)
      else if (d === "'" && text.charAt(j + 1) === "'") {
        body += "\\'"
        j++
      } else if (d === "'") break
      else body += d
    }
    const value = unescapeParam(body)
    if (value === undefined || j >= text.length) return undefined
    out += `'${value.replaceAll("'", "''")}'`
    i = j
  }
  return out
}

const composite = /^(?:(?:Nullable|LowCardinality)\(\s*)*(?:Array|Map|Tuple|Nested)\s*\(/i

/**
 * The HTTP interface's raw parameter values as chDB's binder must be given them (null: the
 * engine's NULL, `\N`); the name of the first value that cannot be, as an error.
 */
export const embeddedParams = (
  sql: string,
  raw: Readonly<Record<string, string>>,
): { readonly params: Record<string, string | null> } | { readonly invalid: string } => {
  const types = placeholderTypes(sql)
  const params: Record<string, string | null> = {}
  for (const [name, text] of Object.entries(raw)) {
    const value =
      text === "\\N"
        ? null
        : composite.test(types.get(name) ?? "")
          ? requoteComposite(text)
          : unescapeParam(text)
    if (value === undefined) return { invalid: name }
    params[name] = value
  }
  return { params }
}
