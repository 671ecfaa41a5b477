import * as fs from "node:fs"
import * as path from "node:path"
import { Effect } from "effect"
import { runCommand } from "../../src/command.ts"
import { brokers, repoRoot, tempDir } from "./it.ts"

/**
 * Kafka's own console producer and consumer (the Java client, from the jars `make setup` puts in
 * infra/kafka/target/lib), to prove other clients read what we write and the other way round.
 */

const java =
  process.env.JAVA_HOME !== undefined && fs.existsSync(path.join(process.env.JAVA_HOME, "bin/java"))
    ? path.join(process.env.JAVA_HOME, "bin/java")
    : "java"

// Short-lived tool JVMs start faster with a small heap, C1 only and the serial GC (TOOL_JVM in
// scripts/kafka.sh); the log4j config keeps the client's INFO chatter out of the output.
const jvm = [
  "-Xms32m",
  "-Xmx256m",
  "-XX:TieredStopAtLevel=1",
  "-XX:+UseSerialGC",
  `-Dlog4j2.configurationFile=${path.join(repoRoot, "infra/kafka/log4j2.yaml")}`,
  "-cp",
  path.join(repoRoot, "infra/kafka/target/lib/*"),
]

const bootstrap = brokers.split(",")[0] ?? brokers

/**
 * Sends `lines` (one record each, no key) to `topic` with the Java producer compressing its
 * batches with `codec`; resolves once every record is acknowledged (acks=all).
 */
export const consoleProduce = (topic: string, lines: ReadonlyArray<string>, codec: string) =>
  Effect.gen(function* () {
    const input = path.join(tempDir("console-producer"), "input.txt")
    yield* Effect.sync(() => fs.writeFileSync(input, `${lines.join("\n")}\n`))
    // The console producer reads stdin and runCommand gives none, so a shell redirects the file.
    yield* runCommand(
      "sh",
      [
        "-c",
        'exec "$@" < "$0"',
        input,
        java,
        ...jvm,
        "org.apache.kafka.tools.ConsoleProducer",
        "--bootstrap-server",
        bootstrap,
        "--topic",
        topic,
        // Not --producer-property compression.type: the tool overwrites that with this flag's default, none.
        "--compression-codec",
        codec,
        "--producer-property",
        "acks=all",
        // Wait a little so the records go out in a few large batches rather than one each.
        "--producer-property",
        "linger.ms=50",
      ],
      process.env,
      "2 minutes",
    )
  })

/**
 * Reads `count` record values of `topic` from the beginning with the Java consumer; fails if they
 * do not all arrive within `timeoutMs`. Values are returned in the order the consumer printed them.
 */
export const consoleConsume = (topic: string, count: number, timeoutMs = 30_000) =>
  runCommand(
    java,
    [
      ...jvm,
      "org.apache.kafka.tools.consumer.ConsoleConsumer",
      "--bootstrap-server",
      bootstrap,
      "--topic",
      topic,
      "--from-beginning",
      "--max-messages",
      String(count),
      "--timeout-ms",
      String(timeoutMs),
      // A marker that no value contains, so the values can be told from the tool's own lines.
      "--property",
      "print.value=true",
      "--property",
      "print.key=true",
      "--property",
      "key.separator=\u0001",
    ],
    process.env,
    "2 minutes",
  ).pipe(
    Effect.map((out) =>
      out
        .split("\n")
        .filter((line) => line.includes("\u0001"))
        .map((line) => {
          const at = line.indexOf("\u0001")
          return { key: line.slice(0, at), value: line.slice(at + 1) }
        }),
    ),
  )
