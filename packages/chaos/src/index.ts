export * from "./compare.ts"
export * from "./scenario.ts"
export * from "./truth.ts"
