// Reads a JSON-lines event file as a stream, one line at a time, so a large day file never sits
// in memory whole. A line that is not a valid event (a torn write after a crash, a hand edit) is
// skipped and counted, never fatal: one bad line must not hide a day of audit history.
import {createReadStream} from 'node:fs'
import {createInterface} from 'node:readline'
import {assertValidEvent, eventTimeMs, type AuditEvent} from './event.js'

export interface ReadSummary {
  /** Lines skipped because they are not valid events. */
  corrupt: number
  /** 1-based line number of the first corrupt line, for the warning. */
  firstCorruptLine?: number
}

/** Calls `onEvent` for each valid event in file order. A missing file reads as empty. */
export async function readEventLines(path: string, onEvent: (event: AuditEvent, timeMs: number) => void): Promise<ReadSummary> {
  const summary: ReadSummary = {corrupt: 0}
  const stream = createReadStream(path, {encoding: 'utf8'})
  const lines = createInterface({input: stream, crlfDelay: Infinity})
  let lineNumber = 0
  try {
    for await (const line of lines) {
      lineNumber++
      if (line.trim() === '') continue
      const event = parseEventLine(line)
      if (event === undefined) {
        summary.corrupt++
        summary.firstCorruptLine ??= lineNumber
        continue
      }
      onEvent(event, eventTimeMs(event))
    }
  } catch (error) {
    // Removed between listing and reading (retention clean-up): nothing to read.
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error
  } finally {
    lines.close()
    stream.destroy()
  }
  return summary
}

function parseEventLine(line: string): AuditEvent | undefined {
  try {
    const event = JSON.parse(line) as AuditEvent
    assertValidEvent(event)
    return event
  } catch {
    return undefined
  }
}
