// The recording's bytes (docs/RECORDING.md): a file header, then chunks, each a fixed header and
// a gzip member holding length-prefixed records. Everything here is pure encode/decode.
import {crc32} from './crc32.js'

export const FILE_MAGIC = Buffer.from('TSREC\0', 'latin1')
export const FORMAT_VERSION = 1
export const FILE_HEADER_BYTES = 20
export const CHUNK_MAGIC = Buffer.from('RCHK', 'latin1')
export const CHUNK_HEADER_BYTES = 40

export const ChunkKind = {Events: 1, End: 2} as const
export type ChunkKind = (typeof ChunkKind)[keyof typeof ChunkKind]

/** Bounds a reader enforces, so a corrupted length cannot make it allocate without limit. */
export const MAX_CHUNK_PAYLOAD_BYTES = 16 * 1024 * 1024
export const MAX_CHUNK_DECODED_BYTES = 16 * 1024 * 1024

export interface FileHeader {
  version: number
  /** The recording's time zero, epoch milliseconds. */
  startMs: number
}

export interface ChunkHeader {
  kind: ChunkKind
  /** Length of the gzip payload that follows the header. */
  payloadBytes: number
  /** `ei` of the chunk's first event (for an end chunk: the number of events in the recording). */
  firstEi: number
  eventCount: number
  /** Elapsed ms (from FileHeader.startMs) of the chunk's first and last events. */
  startMs: number
  endMs: number
  /** Terminal size in effect before the chunk's first event (0 when not known yet). */
  cols: number
  rows: number
}

export function encodeFileHeader(header: FileHeader): Buffer {
  const bytes = Buffer.alloc(FILE_HEADER_BYTES)
  FILE_MAGIC.copy(bytes, 0)
  bytes.writeUInt16BE(header.version, 6)
  bytes.writeBigUInt64BE(BigInt(header.startMs), 8)
  bytes.writeUInt32BE(crc32(bytes.subarray(0, 16)), 16)
  return bytes
}

/** The header, or the reason it is not one. */
export function decodeFileHeader(bytes: Buffer): FileHeader | string {
  if (bytes.length < FILE_HEADER_BYTES) return 'the file header is cut short'
  if (!bytes.subarray(0, 6).equals(FILE_MAGIC)) return 'not a recording (bad magic)'
  if (bytes.readUInt32BE(16) !== crc32(bytes.subarray(0, 16))) return 'the file header checksum does not match'
  const version = bytes.readUInt16BE(6)
  if (version !== FORMAT_VERSION) return `format version ${version} is not supported (this reads ${FORMAT_VERSION})`
  return {version, startMs: Number(bytes.readBigUInt64BE(8))}
}

export function encodeChunkHeader(header: ChunkHeader): Buffer {
  const bytes = Buffer.alloc(CHUNK_HEADER_BYTES)
  CHUNK_MAGIC.copy(bytes, 0)
  bytes.writeUInt8(header.kind, 4)
  bytes.writeUInt32BE(header.payloadBytes, 8)
  bytes.writeUInt32BE(header.firstEi, 12)
  bytes.writeUInt32BE(header.eventCount, 16)
  bytes.writeUInt32BE(clampU32(header.startMs), 20)
  bytes.writeUInt32BE(clampU32(header.endMs), 24)
  bytes.writeUInt16BE(Math.min(header.cols, 0xffff), 28)
  bytes.writeUInt16BE(Math.min(header.rows, 0xffff), 30)
  bytes.writeUInt32BE(crc32(bytes.subarray(0, 36)), 36)
  return bytes
}

export function decodeChunkHeader(bytes: Buffer): ChunkHeader | string {
  if (!bytes.subarray(0, 4).equals(CHUNK_MAGIC)) return 'no chunk starts here (bad magic)'
  if (bytes.readUInt32BE(36) !== crc32(bytes.subarray(0, 36))) return 'the chunk header checksum does not match'
  const kind = bytes.readUInt8(4)
  if (kind !== ChunkKind.Events && kind !== ChunkKind.End) return `unknown chunk kind ${kind}`
  const header: ChunkHeader = {
    kind,
    payloadBytes: bytes.readUInt32BE(8),
    firstEi: bytes.readUInt32BE(12),
    eventCount: bytes.readUInt32BE(16),
    startMs: bytes.readUInt32BE(20),
    endMs: bytes.readUInt32BE(24),
    cols: bytes.readUInt16BE(28),
    rows: bytes.readUInt16BE(30),
  }
  if (header.payloadBytes > MAX_CHUNK_PAYLOAD_BYTES) return `chunk payload of ${header.payloadBytes} bytes is over the limit`
  if (kind === ChunkKind.End && (header.payloadBytes !== 0 || header.eventCount !== 0)) return 'the end marker carries data'
  return header
}

/** One record: u32 JSON length, the event's JSON, u32 data length, the data. */
/**
 * One record as the pieces to write in order: its length-prefixed JSON with the data length, then
 * the data itself, not copied (the chunk is joined once, when it is compressed).
 */
export function encodeRecord(json: string, data?: Uint8Array): Uint8Array[] {
  const textLength = Buffer.byteLength(json)
  const head = Buffer.allocUnsafe(8 + textLength)
  head.writeUInt32BE(textLength, 0)
  head.write(json, 4)
  head.writeUInt32BE(data?.length ?? 0, 4 + textLength)
  return data?.length ? [head, data] : [head]
}

export interface DecodedRecord {
  json: string
  data: Buffer
}

/** The records of a decoded payload, or the reason they cannot be read. */
export function decodeRecords(payload: Buffer, expected: number): DecodedRecord[] | string {
  const records: DecodedRecord[] = []
  let at = 0
  while (at < payload.length) {
    if (at + 4 > payload.length) return 'a record is cut short'
    const jsonLength = payload.readUInt32BE(at)
    const dataAt = at + 4 + jsonLength
    if (dataAt + 4 > payload.length) return 'a record is cut short'
    const dataLength = payload.readUInt32BE(dataAt)
    const end = dataAt + 4 + dataLength
    if (end > payload.length) return 'a record is cut short'
    records.push({json: payload.toString('utf8', at + 4, dataAt), data: payload.subarray(dataAt + 4, end)})
    at = end
  }
  if (records.length !== expected) return `the chunk holds ${records.length} event(s), its header says ${expected}`
  return records
}

function clampU32(n: number): number {
  return Math.max(0, Math.min(Math.floor(n), 0xffffffff))
}
