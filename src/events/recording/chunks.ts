// Walks a recording chunk by chunk, one chunk in memory at a time, always forward: the one walk
// behind the reader (of a file or a stream) and recovery. It stops at the first damage with a
// RecordingDamagedError that names the byte offset where the damaged chunk starts.
import {promisify} from 'node:util'
import {gunzip} from 'node:zlib'
import type {ByteSource} from './byte-source.js'
import {assertValidEvent, type AuditEvent} from '../event.js'
import {RecordingDamagedError} from './damage.js'
import {PRINT_EVENT, assertValidPrint, type PrintEvent, type RecordedEvent, type RecordingEvent} from './events.js'
import {
  CHUNK_HEADER_BYTES, ChunkKind, FILE_HEADER_BYTES, MAX_CHUNK_DECODED_BYTES,
  decodeChunkHeader, decodeFileHeader, decodeRecords, type ChunkHeader, type FileHeader,
} from './format.js'

const gunzipAsync = promisify(gunzip)

export interface ScannedChunk {
  /** Byte offset of the chunk's header. */
  offset: number
  header: ChunkHeader
  /** The chunk's events; undefined when the walk was told to skip this chunk unread. */
  events?: RecordedEvent[]
}

export interface ScanOptions {
  /** Whether to read and decode a chunk's payload; skipped chunks are only checked by header. */
  decode?: (header: ChunkHeader) => boolean
}

/** Reads and checks the file header. */
export async function readFileHeader(source: ByteSource, name: string): Promise<FileHeader> {
  const header = decodeFileHeader(await source.readAt(0, FILE_HEADER_BYTES))
  if (typeof header === 'string') throw new RecordingDamagedError(name, 0, 0, header)
  return header
}

/** The chunks after the file header, in order, up to and including the end marker. */
export async function* scanChunks(source: ByteSource, name: string, fileHeader: FileHeader, options: ScanOptions = {}): AsyncGenerator<ScannedChunk> {
  let offset = FILE_HEADER_BYTES
  let nextEi = 0
  const damaged = (reason: string) => new RecordingDamagedError(name, offset, nextEi, reason)
  for (;;) {
    const headerBytes = await source.readAt(offset, CHUNK_HEADER_BYTES)
    if (headerBytes.length === 0) throw damaged('it ends without its closing marker (cut short, or still being written)')
    if (headerBytes.length < CHUNK_HEADER_BYTES) throw damaged('the last chunk header is cut short')
    const header = decodeChunkHeader(headerBytes)
    if (typeof header === 'string') throw damaged(header)
    if (header.firstEi !== nextEi) throw damaged(`the chunk starts at event ${header.firstEi}, expected ${nextEi}`)
    const payloadAt = offset + CHUNK_HEADER_BYTES
    if (header.kind === ChunkKind.End) {
      yield {offset, header}
      offset = payloadAt
      if ((await source.readAt(offset, 1)).length) throw damaged('bytes follow the closing marker')
      return
    }
    let events: RecordedEvent[] | undefined
    if (options.decode?.(header) ?? true) {
      const payload = await source.readAt(payloadAt, header.payloadBytes)
      if (payload.length < header.payloadBytes) throw damaged('the last chunk is cut short')
      const decoded = await decodeChunk(payload, header, fileHeader)
      if (typeof decoded === 'string') throw damaged(decoded)
      events = decoded
    } else if (header.payloadBytes && !(await source.readAt(payloadAt + header.payloadBytes - 1, 1)).length) {
      throw damaged('the last chunk is cut short')
    }
    yield {offset, header, events}
    offset = payloadAt + header.payloadBytes
    nextEi += header.eventCount
  }
}

async function decodeChunk(payload: Buffer, header: ChunkHeader, fileHeader: FileHeader): Promise<RecordedEvent[] | string> {
  let plain: Buffer
  try {
    plain = await gunzipAsync(payload, {maxOutputLength: MAX_CHUNK_DECODED_BYTES})
  } catch (err) {
    return `the chunk does not decompress (${(err as Error).message})`
  }
  const records = decodeRecords(plain, header.eventCount)
  if (typeof records === 'string') return records
  const events: RecordedEvent[] = []
  for (const [i, record] of records.entries()) {
    let event: RecordingEvent
    try {
      event = JSON.parse(record.json) as RecordingEvent
      if (event?.event === PRINT_EVENT) assertValidPrint(event as PrintEvent)
      else assertValidEvent(event as AuditEvent)
    } catch (err) {
      return `event ${header.firstEi + i} is not a valid event (${(err as Error).message})`
    }
    if (event.ei !== header.firstEi + i) return `event ${header.firstEi + i} carries ei ${String(event.ei)}`
    const elapsedMs = Date.parse(event.time) - fileHeader.startMs
    if (event.event !== PRINT_EVENT) {
      events.push({event, elapsedMs})
    } else if (record.data.length !== event.bytes) {
      return `print ${event.ei} says ${event.bytes} bytes and holds ${record.data.length}`
    } else {
      events.push({event, data: record.data, elapsedMs})
    }
  }
  return events
}
