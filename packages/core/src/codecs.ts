import { promisify } from "node:util"
import * as zlib from "node:zlib"
// kafkajs is CommonJS and Node cannot see these two as named exports, hence the default import.
import kafkajs, { type CompressionTypes as CompressionType } from "kafkajs"
import * as lz4 from "lz4-napi"
import * as snappy from "snappy"

/**
 * Kafka batch compression codecs for kafkajs, which ships only gzip: a batch that librdkafka or
 * the Java client wrote with snappy, lz4 or zstd would otherwise fail the consumer with
 * KafkaJSNotImplemented, at the same offset after every restart. kafka.ts registers them once
 * for the whole process, so every client built there reads and writes all five codecs.
 */

const { CompressionCodecs, CompressionTypes } = kafkajs

/** The codecs a Kafka producer can choose (`compression.type`). */
export const kafkaCompressions = ["none", "gzip", "snappy", "lz4", "zstd"] as const
export type KafkaCompression = (typeof kafkaCompressions)[number]

/** The kafkajs `producer.send({ compression })` value for a codec name. */
export const compressionType = (name: KafkaCompression): CompressionType => {
  switch (name) {
    case "none":
      return CompressionTypes.None
    case "gzip":
      return CompressionTypes.GZIP
    case "snappy":
      return CompressionTypes.Snappy
    case "lz4":
      return CompressionTypes.LZ4
    case "zstd":
      return CompressionTypes.ZSTD
  }
}

/** What kafkajs calls: compress gets its record encoder (only `buffer` is read). */
export interface KafkaCodec {
  readonly compress: (encoder: { readonly buffer: Buffer }) => Promise<Buffer>
  readonly decompress: (buffer: Buffer) => Promise<Buffer>
}

// --- zstd: built into Node 24's zlib (default level 3, like the Java client and librdkafka) ---
const zstdCompress = promisify(zlib.zstdCompress)
const zstdDecompress = promisify(zlib.zstdDecompress)

export const zstdCodec: KafkaCodec = {
  compress: (encoder) => zstdCompress(encoder.buffer),
  decompress: (buffer) => zstdDecompress(buffer),
}

// --- lz4: Kafka's v2 record batches hold a standard LZ4 frame ---
export const lz4Codec: KafkaCodec = {
  compress: (encoder) => lz4.compressFrame(encoder.buffer),
  decompress: (buffer) => lz4.decompressFrame(buffer),
}

// --- snappy: raw blocks (librdkafka) or xerial framing (the Java client's SnappyOutputStream) ---

/** 0x82 "SNAPPY" 0x00, then a version and a min-compatible-version int32, then the blocks. */
export const XERIAL_MAGIC = Buffer.from([0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00])
const XERIAL_HEADER_BYTES = XERIAL_MAGIC.length + 8

const isXerial = (buffer: Buffer) =>
  buffer.length >= XERIAL_HEADER_BYTES && buffer.subarray(0, XERIAL_MAGIC.length).equals(XERIAL_MAGIC)

/** The raw snappy blocks of a xerial stream: each an int32 big-endian length, then that many bytes. */
export const xerialBlocks = (buffer: Buffer): ReadonlyArray<Buffer> => {
  const blocks: Array<Buffer> = []
  let offset = XERIAL_HEADER_BYTES
  while (offset < buffer.length) {
    if (offset + 4 > buffer.length) throw new Error(`snappy: truncated xerial block length at byte ${offset}`)
    const size = buffer.readUInt32BE(offset)
    offset += 4
    if (offset + size > buffer.length) {
      throw new Error(
        `snappy: xerial block at byte ${offset} declares ${size} bytes, ${buffer.length - offset} left`,
      )
    }
    blocks.push(buffer.subarray(offset, offset + size))
    offset += size
  }
  return blocks
}

const uncompressSnappy = async (block: Buffer): Promise<Buffer> => {
  const out = await snappy.uncompress(block, { asBuffer: true })
  return Buffer.isBuffer(out) ? out : Buffer.from(out)
}

// Writes raw snappy, as librdkafka does; the Java client's SnappyInputStream reads a stream
// without the xerial magic as one raw block (checked against kafka-console-consumer).
export const snappyCodec: KafkaCodec = {
  compress: (encoder) => snappy.compress(encoder.buffer),
  decompress: async (buffer) =>
    isXerial(buffer)
      ? Buffer.concat(await Promise.all(xerialBlocks(buffer).map(uncompressSnappy)))
      : uncompressSnappy(buffer),
}

/**
 * Puts snappy, lz4 and zstd into kafkajs's codec table (process-wide, idempotent). kafkajs looks
 * a codec up per batch by calling the table entry, so each entry returns the one shared codec.
 */
export const registerCodecs = (): void => {
  CompressionCodecs[CompressionTypes.Snappy] = () => snappyCodec
  CompressionCodecs[CompressionTypes.LZ4] = () => lz4Codec
  CompressionCodecs[CompressionTypes.ZSTD] = () => zstdCodec
}
