import { describe, expect, it } from "@effect/vitest"
import kafkajs from "kafkajs"
import * as snappy from "snappy"
import {
  compressionType,
  type KafkaCodec,
  kafkaCompressions,
  lz4Codec,
  snappyCodec,
  XERIAL_MAGIC,
  xerialBlocks,
  zstdCodec,
} from "../src/codecs.ts"
// Importing the module every kafkajs client comes from is what registers the codecs.
import "../src/kafka.ts"

const { CompressionCodecs, CompressionTypes } = kafkajs

// Repetitive enough to compress, varied enough to catch a block boundary or ordering mistake.
const payload = Buffer.from(
  Array.from({ length: 4_000 }, (_, i) => `{"event_id":"e-${i}","user_id":"u-${i % 97}"}\n`).join(""),
)

const codecs: ReadonlyArray<readonly [string, KafkaCodec]> = [
  ["snappy", snappyCodec],
  ["lz4", lz4Codec],
  ["zstd", zstdCodec],
]

const int32 = (n: number) => {
  const b = Buffer.alloc(4)
  b.writeUInt32BE(n)
  return b
}

/** A xerial stream as the Java client's SnappyOutputStream writes it: header, then sized blocks. */
const xerial = (blocks: ReadonlyArray<Buffer>) =>
  Buffer.concat([
    XERIAL_MAGIC,
    int32(1),
    int32(1),
    ...blocks.flatMap((b) => {
      const raw = snappy.compressSync(b)
      return [int32(raw.length), raw]
    }),
  ])

describe("compression codecs", () => {
  for (const [name, codec] of codecs) {
    it(`${name} round-trips a batch and actually compresses it`, async () => {
      const compressed = await codec.compress({ buffer: payload })
      expect(compressed.length).toBeLessThan(payload.length / 2)
      expect((await codec.decompress(compressed)).equals(payload)).toBe(true)
      expect((await codec.decompress(await codec.compress({ buffer: Buffer.alloc(0) }))).length).toBe(0)
    })
  }

  it("lz4 writes a standard LZ4 frame (magic 04 22 4D 18), the format of Kafka's v2 batches", async () => {
    const frame = await lz4Codec.compress({ buffer: payload })
    expect(frame.subarray(0, 4)).toEqual(Buffer.from([0x04, 0x22, 0x4d, 0x18]))
  })

  it("zstd writes a zstd frame (magic 28 B5 2F FD)", async () => {
    const frame = await zstdCodec.compress({ buffer: payload })
    expect(frame.subarray(0, 4)).toEqual(Buffer.from([0x28, 0xb5, 0x2f, 0xfd]))
  })

  it("snappy reads raw blocks (librdkafka) and writes them", async () => {
    const raw = snappy.compressSync(payload)
    expect((await snappyCodec.decompress(raw)).equals(payload)).toBe(true)
    const written = await snappyCodec.compress({ buffer: payload })
    expect(written.subarray(0, XERIAL_MAGIC.length).equals(XERIAL_MAGIC)).toBe(false)
    expect(Buffer.from(snappy.uncompressSync(written)).equals(payload)).toBe(true)
  })

  it("snappy reads xerial framing (the Java client), block by block in order", async () => {
    const parts = [payload.subarray(0, 32_768), payload.subarray(32_768, 65_536), payload.subarray(65_536)]
    const framed = xerial(parts)
    expect(xerialBlocks(framed)).toHaveLength(3)
    expect((await snappyCodec.decompress(framed)).equals(payload)).toBe(true)
    expect((await snappyCodec.decompress(xerial([]))).length).toBe(0)
  })

  it("snappy refuses a truncated xerial stream instead of returning part of the batch", async () => {
    const framed = xerial([payload])
    await expect(snappyCodec.decompress(framed.subarray(0, framed.length - 10))).rejects.toThrow(
      /xerial block .* declares/,
    )
    await expect(snappyCodec.decompress(framed.subarray(0, 18))).rejects.toThrow(/truncated/)
  })

  it("kafka.ts registers snappy, lz4 and zstd in kafkajs's codec table; gzip stays kafkajs's own", async () => {
    expect(CompressionCodecs[CompressionTypes.Snappy]()).toBe(snappyCodec)
    expect(CompressionCodecs[CompressionTypes.LZ4]()).toBe(lz4Codec)
    expect(CompressionCodecs[CompressionTypes.ZSTD]()).toBe(zstdCodec)
    const gzip: KafkaCodec = CompressionCodecs[CompressionTypes.GZIP]()
    expect((await gzip.decompress(await gzip.compress({ buffer: payload }))).equals(payload)).toBe(true)
  })

  it("maps every codec name to its kafkajs compression type", () => {
    expect(kafkaCompressions.map(compressionType)).toEqual([
      CompressionTypes.None,
      CompressionTypes.GZIP,
      CompressionTypes.Snappy,
      CompressionTypes.LZ4,
      CompressionTypes.ZSTD,
    ])
  })
})
