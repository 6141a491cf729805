// Writes a session recording as the session runs (format: docs/RECORDING.md). Events are
// buffered and written as one gzip chunk when a second has passed since the first of them was
// recorded, or when they reach `chunkBytes`, whichever comes first: a kill -9 loses at most the
// last second. Writes go through one O_APPEND handle, in order; fdatasync runs at most once a
// second (and at the end), so a power loss costs at most about two seconds.
//
// Recording must never stop a session: the record methods do not throw on I/O. The first failed
// write (a full disk) calls onFailure once and the writer drops everything after it; what was
// written before stays readable, and recoverRecording closes it.
import {constants} from 'node:fs'
import {chmod, mkdir, open, type FileHandle} from 'node:fs/promises'
import path from 'node:path'
import {promisify} from 'node:util'
import {gzip} from 'node:zlib'
import {systemClock, type Clock, type Timer} from '../../lib/clock.js'
import {EventCode, EventName} from '../codes.js'
import {formatEventTime, makeEvent, type EventFields} from '../event.js'
import {MAX_PRINT_BYTES, PRINT_EVENT, parseTerminalSize} from './events.js'
import {
  ChunkKind, FORMAT_VERSION,
  encodeChunkHeader, encodeFileHeader, encodeRecord, type ChunkHeader,
} from './format.js'

const gzipAsync = promisify(gzip)

export const DEFAULT_FLUSH_INTERVAL_MS = 1000
export const DEFAULT_CHUNK_BYTES = 256 * 1024

export interface RecordingWriterOptions {
  clock?: Clock
  /** Fields every event of the session carries: sid, server_id, server_hostname, addr.*, ... */
  fields: EventFields
  /** Longest time an event waits in memory before it is written. */
  flushIntervalMs?: number
  /** Buffered record bytes (uncompressed) that trigger a write before the interval is up. */
  chunkBytes?: number
  /** gzip level: 1 (the default) keeps recording cheap next to the session's own throughput. */
  compressionLevel?: number
  /** Called once, with the first write error; nothing more is written after it. */
  onFailure?: (err: Error) => void
}

export class RecordingWriter {
  private readonly clock: Clock
  private readonly flushIntervalMs: number
  private readonly chunkBytes: number
  private readonly level: number
  private nextEi = 0
  private nextCi = 0
  private outputBytes = 0
  private firstPrintMs?: number
  private lastElapsedMs = 0
  private startedAt?: string
  private readonly participants: string[] = []
  private size = {cols: 0, rows: 0}
  private pending: Uint8Array[] = []
  private pendingBytes = 0
  private pendingHeader?: Omit<ChunkHeader, 'kind' | 'payloadBytes'>
  private flushTimer?: Timer
  private lastSyncMs: number
  private writing: Promise<void> = Promise.resolve()
  private failure?: Error
  private ended = false

  private constructor(
    readonly file: string,
    private readonly handle: FileHandle,
    private readonly startMs: number,
    private readonly options: RecordingWriterOptions,
  ) {
    this.clock = options.clock ?? systemClock
    this.flushIntervalMs = options.flushIntervalMs ?? DEFAULT_FLUSH_INTERVAL_MS
    this.chunkBytes = options.chunkBytes ?? DEFAULT_CHUNK_BYTES
    this.level = options.compressionLevel ?? 1
    this.lastSyncMs = startMs
  }

  /** Creates the file (0600, in a 0700 directory; refuses an existing one) and writes its header. */
  static async create(file: string, options: RecordingWriterOptions): Promise<RecordingWriter> {
    const dir = path.dirname(file)
    await mkdir(dir, {recursive: true, mode: 0o700})
    await chmod(dir, 0o700)
    const flags = constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW
    const handle = await open(file, flags, 0o600)
    const startMs = (options.clock ?? systemClock).now().getTime()
    try {
      await handle.appendFile(encodeFileHeader({version: FORMAT_VERSION, startMs}))
      await handle.datasync()
    } catch (err) {
      await handle.close()
      throw err
    }
    return new RecordingWriter(file, handle, startMs, options)
  }

  /** The first write error, if recording has stopped. */
  get failed(): Error | undefined {
    return this.failure
  }

  start(fields: EventFields & {size: string}): void {
    const event = this.record(EventName.SessionStart, EventCode.SessionStart, fields)
    this.startedAt = event.time
    const user = fields.user ?? this.options.fields.user
    if (typeof user === 'string') this.addParticipant(user)
    this.size = parseTerminalSize(fields.size) ?? this.size
  }

  /** Records output; more than MAX_PRINT_BYTES at once becomes several prints. */
  print(data: Uint8Array): void {
    for (let at = 0; at < data.length; at += MAX_PRINT_BYTES) {
      const piece = data.subarray(at, at + MAX_PRINT_BYTES)
      const now = this.clock.now().getTime()
      this.firstPrintMs ??= now
      const fields = {ci: this.nextCi++, bytes: piece.length, ms: Math.max(0, now - this.firstPrintMs), offset: this.outputBytes}
      this.outputBytes += piece.length
      this.record(PRINT_EVENT, undefined, fields, piece, now)
    }
  }

  resize(size: string, fields: EventFields = {}): void {
    this.record(EventName.Resize, EventCode.Resize, {...fields, size})
    this.size = parseTerminalSize(size) ?? this.size
  }

  join(fields: EventFields): void {
    this.record(EventName.SessionJoin, EventCode.SessionJoin, fields)
    if (typeof fields.user === 'string') this.addParticipant(fields.user)
  }

  leave(fields: EventFields): void {
    this.record(EventName.SessionLeave, EventCode.SessionLeave, fields)
  }

  /** Records session.end (participants and times filled in), closes the recording and the file. */
  async end(fields: EventFields & {interactive: boolean}): Promise<void> {
    if (this.ended) return
    const stop = this.clock.now().toISOString()
    this.record(EventName.SessionEnd, EventCode.SessionEnd, {
      participants: [...this.participants],
      session_start: this.startedAt ?? stop,
      session_stop: stop,
      ...fields,
    })
    await this.finish()
  }

  /** Closes the recording without a session.end (the session's end is recorded elsewhere). */
  async close(): Promise<void> {
    if (!this.ended) await this.finish()
  }

  /** Writes what is buffered now and resolves once it is on disk (synced). */
  async flush(): Promise<void> {
    this.writeChunk(true)
    await this.writing
  }

  /** Resolves once every chunk handed to the disk so far is written. */
  written(): Promise<void> {
    return this.writing
  }

  private async finish(): Promise<void> {
    this.ended = true
    this.writeChunk(false)
    const nextEi = this.nextEi
    const endMs = this.lastElapsedMs
    this.enqueue(async () => {
      const header = encodeChunkHeader({kind: ChunkKind.End, payloadBytes: 0, firstEi: nextEi, eventCount: 0, startMs: endMs, endMs, ...this.size})
      await this.handle.appendFile(header)
      await this.handle.datasync()
    })
    await this.writing
    await this.handle.close()
  }

  /** Buffers one event; a print (no code) is stamped with `atMs`, the time its `ms` was taken from. */
  private record(name: string, code: EventCode | undefined, fields: EventFields, data?: Uint8Array, atMs?: number) {
    if (this.ended) throw new Error(`recording ${this.file} is closed`)
    const event = code
      ? makeEvent(name as EventName, code, {...this.options.fields, ...fields, ei: this.nextEi}, this.clock)
      : {ei: this.nextEi, event: name, time: formatEventTime(new Date(atMs ?? this.clock.now().getTime())), ...fields}
    this.nextEi++
    if (this.failure) return event
    const elapsedMs = Math.max(this.lastElapsedMs, Date.parse(event.time) - this.startMs)
    this.lastElapsedMs = elapsedMs
    if (!this.pendingHeader) {
      this.pendingHeader = {firstEi: event.ei as number, eventCount: 0, startMs: elapsedMs, endMs: elapsedMs, ...this.size}
      this.flushTimer = this.clock.setTimer(this.flushIntervalMs, () => this.writeChunk(true), {unref: true})
    }
    this.pendingHeader.eventCount++
    this.pendingHeader.endMs = elapsedMs
    for (const piece of encodeRecord(JSON.stringify(event), data)) {
      this.pending.push(piece)
      this.pendingBytes += piece.length
    }
    if (this.pendingBytes >= this.chunkBytes) this.writeChunk(this.clock.now().getTime() - this.lastSyncMs >= this.flushIntervalMs)
    return event
  }

  /** Hands the buffered records to the disk as one chunk. */
  private writeChunk(sync: boolean): void {
    this.flushTimer?.cancel()
    this.flushTimer = undefined
    const meta = this.pendingHeader
    const records = this.pending
    this.pending = []
    this.pendingBytes = 0
    this.pendingHeader = undefined
    if (!meta) {
      if (sync) this.enqueue(() => this.handle.datasync())
      return
    }
    if (sync) this.lastSyncMs = this.clock.now().getTime()
    this.enqueue(async () => {
      const plain = Buffer.concat(records)
      // An output buffer as large as the input: zlib's default (16 KiB) costs a round trip to the
      // thread pool per piece, several times the compression itself.
      const payload = await gzipAsync(plain, {level: this.level, chunkSize: Math.max(64 * 1024, plain.length + 1024)})
      await this.handle.appendFile(Buffer.concat([encodeChunkHeader({kind: ChunkKind.Events, payloadBytes: payload.length, ...meta}), payload]))
      if (sync) await this.handle.datasync()
    })
  }

  private enqueue(work: () => Promise<void>): void {
    this.writing = this.writing.then(async () => {
      if (this.failure) return
      try {
        await work()
      } catch (err) {
        this.failure = err as Error
        this.pending = []
        this.options.onFailure?.(this.failure)
      }
    })
  }

  private addParticipant(user: string): void {
    if (!this.participants.includes(user)) this.participants.push(user)
  }
}

