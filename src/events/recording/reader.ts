// Streams a recording's events in constant memory: one chunk is read at a time, and a start
// time skips whole chunks by their headers without reading their payloads. On damage it hands
// out every event before it, then throws RecordingDamagedError saying where it stopped. It reads
// a file (any number of times, seeking back too) or a stream such as a download (once, forward).
import {open, type FileHandle} from 'node:fs/promises'
import {fileError} from '../../lib/file-errors.js'
import {fileSource, streamSource, type ByteSource} from './byte-source.js'
import {readFileHeader, scanChunks} from './chunks.js'
import {RecordingDamagedError} from './damage.js'
import {parseTerminalSize, type RecordedEvent, type TerminalSize} from './events.js'
import type {FileHeader} from './format.js'

export interface ReadOptions {
  /** Start at the first event this many ms after the recording's start (see RecordedEvent.elapsedMs). */
  fromMs?: number
}

export class RecordingReader implements AsyncIterable<RecordedEvent> {
  private constructor(
    /** The file, or what the stream is, for messages. */
    readonly name: string,
    private readonly source: ByteSource,
    private readonly header: FileHeader,
    private readonly release: () => Promise<void>,
  ) {}

  /** Opens the file and checks its header; a missing or unreadable file throws the usual file error. */
  static async open(file: string): Promise<RecordingReader> {
    let handle: FileHandle
    try {
      handle = await open(file, 'r')
    } catch (err) {
      throw fileError(err, file, {noun: 'recording'})
    }
    try {
      const source = fileSource(handle)
      return new RecordingReader(file, source, await readFileHeader(source, file), () => handle.close())
    } catch (err) {
      await handle.close()
      throw err instanceof RecordingDamagedError ? err : fileError(err, file, {noun: 'recording'})
    }
  }

  /** Reads a recording from a stream (read once, forward: seeking back throws BadParameterError). */
  static async fromStream(stream: AsyncIterable<Uint8Array>, name: string): Promise<RecordingReader> {
    const source = streamSource(stream)
    return new RecordingReader(name, source, await readFileHeader(source, name), async () => {})
  }

  /** The recording's time zero: events' elapsedMs count from here. */
  get startTime(): Date {
    return new Date(this.header.startMs)
  }

  /** The events in order (from `fromMs` on). Can be called again, e.g. to seek back. */
  async *events(options: ReadOptions = {}): AsyncGenerator<RecordedEvent> {
    const fromMs = options.fromMs ?? 0
    const chunks = scanChunks(this.source, this.name, this.header, {decode: (header) => header.endMs >= fromMs})
    for await (const chunk of chunks) {
      for (const recorded of chunk.events ?? []) if (recorded.elapsedMs >= fromMs) yield recorded
    }
  }

  /**
   * The terminal size in effect at `atMs` (set by session.start and resizes before it): what a
   * player starting there sets first. Undefined when none was recorded by then.
   */
  async terminalSizeAt(atMs: number): Promise<TerminalSize | undefined> {
    let size: TerminalSize | undefined
    for await (const chunk of scanChunks(this.source, this.name, this.header, {decode: (header) => header.endMs >= atMs})) {
      if (chunk.header.cols && chunk.header.rows) size = {cols: chunk.header.cols, rows: chunk.header.rows}
      for (const {event, elapsedMs} of chunk.events ?? []) {
        if (elapsedMs >= atMs) return size
        if (event.event === 'session.start' || event.event === 'resize') size = parseTerminalSize(event.size) ?? size
      }
    }
    return size
  }

  [Symbol.asyncIterator](): AsyncIterator<RecordedEvent> {
    return this.events()
  }

  /** Closes the file; a stream is its owner's to close. */
  close(): Promise<void> {
    return this.release()
  }
}
