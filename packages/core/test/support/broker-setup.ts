import { execFileSync } from "node:child_process"
import * as fs from "node:fs"
import * as net from "node:net"

/**
 * Integration tests need the real local broker (`make up`, or .ci/run). When it is not there
 * they fail here, loudly, instead of skipping.
 */
const probe = (host: string, port: number) =>
  new Promise<boolean>((resolve) => {
    const socket = net.connect({ host, port, timeout: 2_000 })
    socket.once("connect", () => {
      socket.destroy()
      resolve(true)
    })
    socket.once("error", () => resolve(false))
    socket.once("timeout", () => {
      socket.destroy()
      resolve(false)
    })
  })

const hasCommand = (command: string, arg: string) => {
  try {
    execFileSync(command, [arg], { stdio: "ignore" })
    return true
  } catch {
    return false
  }
}

const isExecutable = (file: string) => {
  try {
    fs.accessSync(file, fs.constants.X_OK)
    return true
  } catch {
    return false
  }
}

export default async function setup(): Promise<void> {
  // The hostile-input suite sends through librdkafka's kcat; without it that suite would fail late.
  if (!hasCommand("kcat", "-V")) {
    throw new Error(
      "integration tests need kcat (librdkafka's CLI): apt-get install -y kcat (make setup does in CI)",
    )
  }
  // The console's browser tests drive Debian's chromium (packages/dashboard/test/support/chromium.ts).
  if (!isExecutable("/usr/bin/chromium")) {
    throw new Error(
      "integration tests need Debian's chromium at /usr/bin/chromium: apt-get install -y --no-install-recommends chromium (make setup does in CI)",
    )
  }
  const broker = (process.env.KAFKA_BROKERS ?? "127.0.0.1:19092").split(",")[0] ?? ""
  const [host = "127.0.0.1", port = "19092"] = broker.split(":")
  if (!(await probe(host, Number(port)))) {
    throw new Error(
      `integration tests need a Kafka broker at ${broker}, and none answers: start one with \`make up\` (or run \`make test\`, which does)`,
    )
  }
}
