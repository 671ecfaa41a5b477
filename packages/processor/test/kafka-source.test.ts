import { hasErrorType } from "@rtoa/core"
import { describe, expect, it } from "vitest"

describe("kafka source: stale coordinator", () => {
  it("finds a protocol error type inside the errors kafkajs wraps it in", () => {
    const protocol = { name: "KafkaJSProtocolError", type: "NOT_COORDINATOR_FOR_GROUP" }
    const exhausted = { name: "KafkaJSNumberOfRetriesExceeded", cause: protocol }
    expect(hasErrorType(protocol, "NOT_COORDINATOR_FOR_GROUP")).toBe(true)
    expect(hasErrorType({ message: "wrapped", cause: exhausted }, "NOT_COORDINATOR_FOR_GROUP")).toBe(true)
    expect(hasErrorType(exhausted, "REBALANCE_IN_PROGRESS")).toBe(false)
    expect(hasErrorType(new Error("ECONNREFUSED"), "NOT_COORDINATOR_FOR_GROUP")).toBe(false)
    expect(hasErrorType(undefined, "NOT_COORDINATOR_FOR_GROUP")).toBe(false)
  })
})
