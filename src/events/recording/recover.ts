// Closes a recording left open by a crash (kill -9, power loss, a full disk): keeps every whole
// chunk, cuts whatever follows the last one (a torn write) and appends the closing marker, so the
// file reads to its end without error. Running it again on the result changes nothing.
import {constants} from 'node:fs'
import {open} from 'node:fs/promises'
import {fileError} from '../../lib/file-errors.js'
import {fileSource} from './byte-source.js'
import {readFileHeader, scanChunks} from './chunks.js'
import {RecordingDamagedError} from './damage.js'
import {parseTerminalSize} from './events.js'
import {ChunkKind, encodeChunkHeader, type ChunkHeader} from './format.js'

export interface RecoveredRecording {
  /** Events kept (ei 0 to events - 1). */
  events: number
  /** Bytes cut off the end (0 when the file was whole). */
  cutBytes: number
  /** False when the file was already closed and nothing changed. */
  changed: boolean
  /** Whether a session.end is among the events (if not, the session's end was never recorded). */
  sessionEnded: boolean
  /** Participants named by session.start and session.join, in order of arrival. */
  participants: string[]
  /** Time of the first and last event kept, ISO 8601 (undefined when no event was kept). */
  firstEventTime?: string
  lastEventTime?: string
}

/**
 * Makes a complete recording of what a crash left. A file whose header is damaged is not a
 * recording: RecordingDamagedError, and the file is left as it is.
 */
export async function recoverRecording(file: string): Promise<RecoveredRecording> {
  let handle
  try {
    handle = await open(file, constants.O_RDWR | constants.O_NOFOLLOW)
  } catch (err) {
    throw fileError(err, file, {noun: 'recording'})
  }
  try {
    const source = fileSource(handle)
    const fileHeader = await readFileHeader(source, file)
    const result: RecoveredRecording = {events: 0, cutBytes: 0, changed: false, sessionEnded: false, participants: []}
    let closed = false
    let size: {cols: number; rows: number} | undefined
    let last: ChunkHeader | undefined
    let cutAt: number | undefined
    try {
      for await (const chunk of scanChunks(source, file, fileHeader)) {
        if (chunk.header.kind === ChunkKind.End) closed = true
        last = chunk.header
        for (const {event} of chunk.events ?? []) {
          result.events++
          result.firstEventTime ??= event.time
          result.lastEventTime = event.time
          if (event.event === 'session.end') result.sessionEnded = true
          if (event.event === 'session.start' || event.event === 'resize') size = parseTerminalSize(event.size) ?? size
          const user = (event as {user?: unknown}).user
          if ((event.event === 'session.start' || event.event === 'session.join') && typeof user === 'string' && !result.participants.includes(user)) {
            result.participants.push(user)
          }
        }
      }
    } catch (err) {
      if (!(err instanceof RecordingDamagedError)) throw err
      cutAt = err.byteOffset
    }
    if (cutAt === undefined) return result
    result.cutBytes = (await handle.stat()).size - cutAt
    result.changed = true
    await handle.truncate(cutAt)
    if (!closed) {
      const endMs = last?.endMs ?? 0
      const end = encodeChunkHeader({kind: ChunkKind.End, payloadBytes: 0, firstEi: result.events, eventCount: 0, startMs: endMs, endMs, ...(size ?? {cols: last?.cols ?? 0, rows: last?.rows ?? 0})})
      await handle.write(end, 0, end.length, cutAt)
    }
    await handle.datasync()
    return result
  } finally {
    await handle.close()
  }
}
