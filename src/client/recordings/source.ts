import type {Readable} from 'node:stream'
import type {UserAuthApi} from '../../api/auth-api.js'
import {parseTerminalSize, RecordingReader, type RecordedEvent, type TerminalSize} from '../../events/recording/index.js'

// Where a recording is read from, by position: a file on disk (read in place; going back is a
// positioned read, and whole chunks before the position are skipped by their headers), or a
// session on the cluster, streamed from auth (each new position is a new request from the
// start: the stream is read once and forward, so going back means asking again; what comes
// before the position is read and dropped, never kept). Either way one chunk at a time is in
// memory.

export interface Positioned {
  /** The terminal size in effect at the position; undefined at 0, where session.start gives it. */
  size?: TerminalSize
  events: AsyncIterable<RecordedEvent>
}

export interface RecordingSource {
  /** The file, or "session <sid>": for messages. */
  readonly name: string
  /** The events from `fromMs` (ms from the recording's start) on. A new call ends the previous one's stream. */
  from(fromMs: number): Promise<Positioned>
  close(): Promise<void>
}

/** A recording file; a missing or damaged file header throws at once. */
export async function fileSource(file: string): Promise<RecordingSource> {
  const reader = await RecordingReader.open(file)
  return {
    name: file,
    async from(fromMs) {
      return fromMs > 0 ? {size: await reader.terminalSizeAt(fromMs), events: reader.events({fromMs})} : {events: reader.events()}
    },
    close: () => reader.close(),
  }
}

/** A session's recording from auth; not found or access denied throws at once (from the first request). */
export async function sessionSource(api: Pick<UserAuthApi, 'openRecording'>, sid: string): Promise<RecordingSource> {
  const name = `session ${sid}`
  let stream: Readable | undefined
  const request = async (): Promise<RecordingReader> => {
    stream?.destroy()
    stream = await api.openRecording(sid)
    return RecordingReader.fromStream(stream, name)
  }
  let first: RecordingReader | undefined = await request()
  return {
    name,
    async from(fromMs) {
      const reader = first ?? (await request())
      first = undefined
      return fromMs > 0 ? startAt(reader.events(), fromMs) : {events: reader.events()}
    },
    async close() {
      stream?.destroy()
    },
  }
}

/** Reads up to `fromMs` keeping only the terminal size, then hands out the rest. */
async function startAt(events: AsyncGenerator<RecordedEvent>, fromMs: number): Promise<Positioned> {
  let size: TerminalSize | undefined
  let next = await events.next()
  for (; !next.done && next.value.elapsedMs < fromMs; next = await events.next()) {
    const {event} = next.value
    if (event.event === 'session.start' || event.event === 'resize') size = parseTerminalSize(event.size) ?? size
  }
  const firstAtPosition = next
  async function* rest(): AsyncGenerator<RecordedEvent> {
    try {
      for (let r = firstAtPosition; !r.done; r = await events.next()) yield r.value
    } finally {
      await events.return(undefined)
    }
  }
  return {...(size ? {size} : {}), events: rest()}
}
