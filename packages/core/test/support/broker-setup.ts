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

export default async function setup(): Promise<void> {
  const broker = (process.env.KAFKA_BROKERS ?? "127.0.0.1:19092").split(",")[0] ?? ""
  const [host = "127.0.0.1", port = "19092"] = broker.split(":")
  if (!(await probe(host, Number(port)))) {
    throw new Error(
      `integration tests need a Kafka broker at ${broker}, and none answers: start one with \`make up\` (or run \`make test\`, which does)`,
    )
  }
}
