export * from "./api.ts"
export * from "./assets.ts"
