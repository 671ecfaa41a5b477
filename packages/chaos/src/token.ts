import { randomBytes } from "node:crypto"

/** The bearer token this run gives its processors (PROCESSOR_HTTP_TOKEN) and queries them with. */
export const chaosToken = randomBytes(16).toString("hex")
