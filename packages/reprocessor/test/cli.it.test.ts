import { type ChildProcess, spawn } from "node:child_process"
import * as path from "node:path"
import { makeKafka } from "@rtoa/core"
import { brokers, nodeCommand, repoRoot, runCli, tempDir, uniqueName } from "@rtoa/core/test/support/it.ts"
import { Partitioners } from "kafkajs"
import { afterAll, describe, expect, it } from "vitest"

const topic = uniqueName("reproc-cli")
const port = 20_000 + Math.floor(Math.random() * 20_000)
const env = {
  ...process.env,
  KAFKA_BROKERS: brokers,
  KAFKA_TOPIC: topic,
  KAFKA_DLQ_TOPIC: `${topic}-dlq`,
  KAFKA_GROUP_ID: uniqueName("reproc-cli-live"),
  CLICKHOUSE_DATA_PATH: path.join(tempDir("reproc-cli"), "chdb"),
  PROCESSOR_HTTP_PORT: String(port),
  // Tests never write the repo's own token file.
  PROCESSOR_HTTP_TOKEN: "test-token",
}
const rtoa = (...args: Array<string>) => runCli(env, ...args)

const children: Array<ChildProcess> = []
afterAll(() => {
  for (const c of children) if (c.exitCode === null) c.kill("SIGKILL")
})

const T0 = Math.floor((Date.now() - 20 * 60_000) / 60_000) * 60_000
const iso = (ms: number) => new Date(ms).toISOString()

describe("rtoa reprocess / rebuild-metrics as commands", () => {
  it("explains itself and refuses bad arguments before connecting to anything", async () => {
    // Parsing itself is unit-tested (time.test.ts); here: help, exit codes, stderr, per command.
    const [help, reversed, typo] = await Promise.all([
      rtoa("reprocess", "--help"),
      rtoa("rebuild-metrics", "--from", iso(T0 + 60_000), "--to", iso(T0)),
      rtoa("reprocess", "--form", iso(T0)),
    ])
    expect(help.code).toBe(0)
    // @effect/cli lays the help out: a USAGE heading, then the command line.
    expect(help.stdout).toMatch(/^USAGE\s+\$ rtoa reprocess --from <time> --to <time> \[--dry-run\]/)
    expect(help.stdout).toMatch(/offsets-for-times/)
    expect(reversed.code).toBe(1)
    expect(reversed.stderr.trim()).toBe(
      `error: --from (${iso(T0 + 60_000)}) is after --to (${iso(T0)}): FROM must be before TO`,
    )
    expect(typo.code).toBe(2)
    expect(typo.stderr).toMatch(/^error: Unknown option '--form'/)
  })

  it("while the processor holds the embedded store: refuses to write and says to stop it; a dry run works", async () => {
    expect((await rtoa("ddl")).code).toBe(0)
    const kafka = makeKafka({
      brokers: brokers.split(","),
      clientId: "reproc-cli",
      topic,
      dlqTopic: `${topic}-dlq`,
      groupId: "x",
      partitions: 3,
    })
    const admin = kafka.admin()
    await admin.connect()
    await admin.createTopics({ waitForLeaders: true, topics: [{ topic, numPartitions: 3 }] })
    await admin.disconnect()
    const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner })
    await producer.connect()
    await producer.send({
      topic,
      acks: -1,
      messages: Array.from({ length: 60 }, (_, i) => {
        const t = T0 + i * 10_000
        const event = { event_id: `c-${i}`, user_id: `u-${i % 7}`, event_time: iso(t) }
        return { key: event.user_id, value: JSON.stringify(event), timestamp: String(t) }
      }),
    })
    await producer.disconnect()

    const processor = spawn(
      nodeCommand[0],
      [...nodeCommand.slice(1), path.join(repoRoot, "packages/processor/src/main.ts")],
      {
        env,
        cwd: repoRoot,
        stdio: "ignore",
      },
    )
    children.push(processor)
    for (let i = 0; i < 150; i++) {
      const up = await fetch(`http://127.0.0.1:${port}/health`).then(
        (r) => r.ok,
        () => false,
      )
      if (up) break
      await new Promise((r) => setTimeout(r, 200))
    }

    const from = iso(T0)
    const to = iso(T0 + 5 * 60_000)
    const [lockedReprocess, lockedRebuild, dry] = await Promise.all([
      rtoa("reprocess", "--from", from, "--to", to),
      rtoa("rebuild-metrics", "--from", from, "--to", to),
      rtoa("reprocess", "--from", from, "--to", to, "--dry-run"),
    ])
    for (const [command, locked] of [
      ["reprocess", lockedReprocess],
      ["rebuild-metrics", lockedRebuild],
    ] as const) {
      expect(locked.code).toBe(1)
      expect(locked.stderr).toMatch(
        new RegExp(`error: the embedded store .* is in use by process ${processor.pid}`),
      )
      expect(locked.stderr).toMatch(
        new RegExp(`Nothing was changed\\. Stop the processor .*run \`rtoa ${command}\` again`),
      )
    }
    expect(dry.code).toBe(0)
    expect(dry.stdout).toMatch(
      new RegExp(`reprocess \\(dry run\\): topic ${topic}, range \\[${from}, ${to}\\)`),
    )
    expect(dry.stdout).toMatch(/^\s+total\s+30$/m)
    expect(dry.stdout).toMatch(/dry run: nothing was read or written/)

    processor.kill("SIGTERM")
    await new Promise((resolve) => processor.once("exit", resolve))
    const done = await rtoa("reprocess", "--from", from, "--to", to)
    expect(done.code).toBe(0)
    expect(done.stdout).toMatch(/reprocess: done in .*: 30 records read .* 30 events written/)
    // Not a terminal: plain progress lines on stderr.
    expect(done.stderr).toMatch(/^progress: 30\/30 records \(100%\), .* done in /m)
  })
})
