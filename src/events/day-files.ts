// The file log's layout: one JSON-lines file per UTC day, named by the day of the events it holds
// (`2026-11-21.log`). Because the file is chosen from each event's own time, every event in a
// file lies within that day: a search reads only the files of the days its range touches, and
// can stop after a day once it has enough results.
//
// In a directory several auth servers share (teleport.storage.audit_events_uri), each writes only
// files of its own, `<day>.<writer>.log` (O_APPEND is not atomic across NFS clients), and a search
// reads every writer's files of the days in range.
import {readdir} from 'node:fs/promises'
import {join} from 'node:path'

const DAY_FILE_NAME = /^(\d{4}-\d{2}-\d{2})(?:\.[A-Za-z0-9_-]+)?\.log$/
const WRITER = /^[A-Za-z0-9_-]+$/
const MIN_DAY_MS = Date.parse('0000-01-01T00:00:00.000Z')
const MAX_DAY_MS = Date.parse('9999-12-31T23:59:59.999Z')

/** `YYYY-MM-DD` of an instant, clamped to four-digit years so that day names compare as strings. */
export function utcDay(ms: number): string {
  const clamped = Math.min(Math.max(ms, MIN_DAY_MS), MAX_DAY_MS)
  return new Date(clamped).toISOString().slice(0, 10)
}

/** `<day>.log`, or `<day>.<writer>.log` for one of several writers of a directory. */
export function dayFileName(day: string, writer?: string): string {
  return writer === undefined ? `${day}.log` : `${day}.${writer}.log`
}

/** A writer's name goes into file names: letters, digits, - and _ only. */
export function checkWriterName(writer: string): void {
  if (!WRITER.test(writer)) throw new Error(`an audit log writer is named with letters, digits, - and _: ${JSON.stringify(writer)}`)
}

export interface DayFile {
  day: string
  path: string
}

/** The day files in `dir` whose day lies in [fromDay, toDay], oldest day first (a day's writers by name). Other files are ignored. */
export async function dayFilesInRange(dir: string, fromDay: string, toDay: string): Promise<DayFile[]> {
  const files: DayFile[] = []
  for (const name of await readdir(dir)) {
    const day = DAY_FILE_NAME.exec(name)?.[1]
    if (day !== undefined && day >= fromDay && day <= toDay) files.push({day, path: join(dir, name)})
  }
  const order = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0)
  return files.sort((a, b) => order(a.day, b.day) || order(a.path, b.path))
}
