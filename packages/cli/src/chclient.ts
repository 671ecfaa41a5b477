import * as readline from "node:readline/promises"
import { Console, Effect } from "effect"
import { queryTarget } from "./query-target.ts"

const FORMAT = "PrettyCompactMonoBlock"

/** `make chclient Q="SQL"`: one statement, result to stdout; a ClickHouse error exits non-zero. */
export const chclientOnce = (sql: string, format: string = FORMAT) =>
  Effect.scoped(
    Effect.gen(function* () {
      const target = yield* queryTarget
      const out = yield* target.run(sql, format)
      yield* Effect.sync(() => process.stdout.write(out))
    }),
  )

/**
 * `make chclient`: an interactive SQL shell. A statement ends with `;` (it may span lines);
 * `exit`, `quit` or Ctrl-D leaves. Errors are printed and the shell goes on.
 */
export const chclientInteractive = Effect.scoped(
  Effect.gen(function* () {
    const target = yield* queryTarget
    yield* Console.log(`Connected (read-only) to ${target.via}. End statements with ';', 'exit' to leave.`)
    const rl = yield* Effect.acquireRelease(
      Effect.sync(() =>
        readline.createInterface({
          input: process.stdin,
          output: process.stdout,
          terminal: process.stdin.isTTY,
        }),
      ),
      (r) => Effect.sync(() => r.close()),
    )
    // The async iterator ends at end of input (Ctrl-D, or a closed pipe); rl.question would hang.
    const lines = rl[Symbol.asyncIterator]()
    // Prompts only on a terminal: piped input may close the interface while lines are still queued.
    const prompt = (continuation: boolean) =>
      Effect.sync(() => {
        if (!process.stdin.isTTY) return
        rl.setPrompt(continuation ? "     :-] " : "rtoa :) ")
        rl.prompt()
      })
    let buffer = ""
    yield* prompt(false)
    for (;;) {
      const next = yield* Effect.promise(() => lines.next())
      if (next.done === true) break
      const trimmed = String(next.value).trim()
      if (buffer === "" && /^(exit|quit|\\q)$/i.test(trimmed)) break
      buffer = buffer === "" ? trimmed : `${buffer}\n${trimmed}`
      if (buffer !== "" && buffer.endsWith(";")) {
        const sql = buffer
        buffer = ""
        const started = Date.now()
        yield* target.run(sql, FORMAT).pipe(
          Effect.flatMap((out) => Console.log(`${out}(${((Date.now() - started) / 1_000).toFixed(3)} s)`)),
          Effect.catchAll((e) => Console.error(`error: ${e.message}`)),
        )
      }
      yield* prompt(buffer !== "")
    }
  }),
)
