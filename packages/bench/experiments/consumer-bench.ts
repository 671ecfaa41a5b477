import { parseArgs } from "node:util"
import { Consumer, MessagesStreamModes } from "@platformatic/kafka"
// The Kafka module alone: the package root would load the embedded engine and skew this process's RSS.
import { makeKafka } from "@rtoa/core/kafka"

/**
 * Standalone consume micro-benchmark (run by the harness as its own process, so its CPU and RSS
 * are its own): reads `--messages` records of `--topic` from the start with one client and prints
 * one JSON line {client, messages, seconds, msgPerSec}. Timing runs from the first record to the
 * last, so group join and connection set-up are left out. With --parse each value is also
 * JSON.parse'd (the first step of our decode stage), to see how much of the cost is the client.
 *
 *   node packages/bench/experiments/consumer-bench.ts --client kafkajs|platformatic --brokers H:P --topic T --messages N
 */

const { values } = parseArgs({
  options: {
    client: { type: "string" },
    brokers: { type: "string" },
    topic: { type: "string" },
    messages: { type: "string" },
    group: { type: "string" },
    parse: { type: "boolean" },
  },
})
const client = values.client ?? "kafkajs"
const brokers = (values.brokers ?? "127.0.0.1:19292").split(",")
const topic = values.topic ?? "events"
const target = Number(values.messages ?? "100000")
const group = values.group ?? `consumer-bench-${client}-${Date.now()}`
const parse = values.parse === true

let count = 0
let bytes = 0
let first = 0
const touch = (value: Buffer | null | undefined) => {
  if (count === 0) first = performance.now()
  count += 1
  if (value) {
    bytes += value.length
    if (parse) JSON.parse(value.toString("utf8"))
  }
}

const report = () => {
  const seconds = (performance.now() - first) / 1_000
  process.stdout.write(
    `${JSON.stringify({ client: parse ? `${client}+JSON.parse` : client, messages: count, bytes, seconds, msgPerSec: Math.round(count / seconds) })}\n`,
  )
}

const timeout = setTimeout(() => {
  process.stderr.write(`timed out after ${count} of ${target} messages\n`)
  report()
  process.exit(1)
}, 300_000)

if (client === "kafkajs") {
  // The processor's consumer settings (kafka-source.ts): eachBatch, 1 MiB per partition, 250 ms waits.
  // Built like every other client (makeKafka), against the bench's own plaintext broker.
  const kafka = makeKafka({
    brokers,
    clientId: "consumer-bench",
    topic,
    dlqTopic: `${topic}-dlq`,
    groupId: group,
    partitions: 1,
  })
  const consumer = kafka.consumer({
    groupId: group,
    maxWaitTimeInMs: 250,
    maxBytesPerPartition: 1024 * 1024,
  })
  await consumer.connect()
  await consumer.subscribe({ topic, fromBeginning: true })
  await new Promise<void>((resolve) => {
    void consumer.run({
      autoCommit: false,
      partitionsConsumedConcurrently: 3,
      eachBatch: async ({ batch }) => {
        for (const m of batch.messages) touch(m.value)
        if (count >= target) resolve()
      },
    })
  })
  report()
  await consumer.disconnect()
} else if (client === "platformatic") {
  const consumer = new Consumer({
    clientId: "consumer-bench",
    groupId: group,
    bootstrapBrokers: brokers,
    maxWaitTime: 250,
    maxBytesPerPartition: 1024 * 1024,
  })
  const stream = await consumer.consume({
    topics: [topic],
    mode: MessagesStreamModes.EARLIEST,
    autocommit: false,
  })
  await new Promise<void>((resolve) => {
    stream.on("data", (m: { value: Buffer }) => {
      touch(m.value)
      if (count === target) resolve()
    })
  })
  report()
  await stream.close()
  await consumer.close(true)
} else {
  process.stderr.write(`unknown --client ${client} (kafkajs | platformatic)\n`)
  process.exitCode = 2
}
clearTimeout(timeout)
