import { DeadLetterLimitsConfig, DecodeLimitsConfig, makeMessageDecoder, ProcessorConfig } from "@rtoa/core"
import { Config } from "effect"
import { defaultRetry, type PipelineSettings } from "./pipeline.ts"

/**
 * The engine's own default max_partitions_per_insert_block, used until the engine was asked (the
 * processor asks at start-up) and when it reads 0 (no limit): splitting still keeps inserts sane.
 */
export const DEFAULT_PARTITIONS_PER_INSERT = 100

/**
 * The settings from the environment (BATCH_MAX_ROWS, BATCH_MAX_WAIT_MS, MAX_CLOCK_SKEW_MS, the
 * decode limits, the DLQ_* limits): the processor's, which a replay adjusts (reprocessor's replay.ts).
 */
export const pipelineSettingsConfig: Config.Config<PipelineSettings> = Config.map(
  Config.all([ProcessorConfig, DecodeLimitsConfig, DeadLetterLimitsConfig]),
  ([processor, decodeLimits, deadLetterLimits]) => ({
    batchMaxRows: processor.batchMaxRows,
    batchMaxWait: processor.batchMaxWait,
    maxClockSkew: processor.maxClockSkew,
    futureAgainst: "clock",
    retry: defaultRetry,
    decode: makeMessageDecoder(decodeLimits),
    maxPartitionsPerInsert: DEFAULT_PARTITIONS_PER_INSERT,
    deadLetterLimits,
  }),
)
