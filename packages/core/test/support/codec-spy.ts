import { Effect } from "effect"
import kafkajs from "kafkajs"
import type { KafkaCodec } from "../../src/codecs.ts"

const { CompressionCodecs, CompressionTypes } = kafkajs

const types = {
  gzip: CompressionTypes.GZIP,
  snappy: CompressionTypes.Snappy,
  lz4: CompressionTypes.LZ4,
  zstd: CompressionTypes.ZSTD,
} as const

export type CompressedCodec = keyof typeof types

/**
 * Counts the batches kafkajs compresses and decompresses with `codec` while the scope lasts, so a
 * test proves its records really travelled compressed (a tool can quietly fall back to none).
 * It wraps whatever the table holds, so an unregistered codec still fails as it would.
 */
export const spyOnCodec = (codec: CompressedCodec) =>
  Effect.map(
    Effect.acquireRelease(
      Effect.sync(() => {
        const type = types[codec]
        const original = CompressionCodecs[type]
        const counts = { compressed: 0, decompressed: 0 }
        CompressionCodecs[type] = (): KafkaCodec => {
          const inner: KafkaCodec = original()
          return {
            compress: (encoder) => {
              counts.compressed += 1
              return inner.compress(encoder)
            },
            decompress: (buffer) => {
              counts.decompressed += 1
              return inner.decompress(buffer)
            },
          }
        }
        return { counts, restore: () => (CompressionCodecs[type] = original) }
      }),
      ({ restore }) => Effect.sync(restore),
    ),
    ({ counts }) => counts as Readonly<typeof counts>,
  )
