export * from "./chclient.ts"
export * from "./ddl.ts"
export * from "./dlq.ts"
export * from "./query-target.ts"
