// The file log's layout: one JSON-lines file per UTC day, named by the day of the events it holds
// (`2026-11-21.log`). Because the file is chosen from each event's own time, every event in a
// file lies within that day: a search reads only the files of the days its range touches, and
// can stop after a day once it has enough results.
import {readdir} from 'node:fs/promises'
import {join} from 'node:path'

const DAY_FILE_NAME = /^(\d{4}-\d{2}-\d{2})\.log$/
const MIN_DAY_MS = Date.parse('0000-01-01T00:00:00.000Z')
const MAX_DAY_MS = Date.parse('9999-12-31T23:59:59.999Z')

/** `YYYY-MM-DD` of an instant, clamped to four-digit years so that day names compare as strings. */
export function utcDay(ms: number): string {
  const clamped = Math.min(Math.max(ms, MIN_DAY_MS), MAX_DAY_MS)
  return new Date(clamped).toISOString().slice(0, 10)
}

export function dayFileName(day: string): string {
  return `${day}.log`
}

export interface DayFile {
  day: string
  path: string
}

/** The day files in `dir` whose day lies in [fromDay, toDay], oldest first. Other files are ignored. */
export async function dayFilesInRange(dir: string, fromDay: string, toDay: string): Promise<DayFile[]> {
  const files: DayFile[] = []
  for (const name of await readdir(dir)) {
    const day = DAY_FILE_NAME.exec(name)?.[1]
    if (day !== undefined && day >= fromDay && day <= toDay) files.push({day, path: join(dir, name)})
  }
  return files.sort((a, b) => (a.day < b.day ? -1 : a.day > b.day ? 1 : 0))
}
