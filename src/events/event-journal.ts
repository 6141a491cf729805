import {constants, readFileSync} from 'node:fs'
import {chmod, mkdir, open, type FileHandle} from 'node:fs/promises'
import path from 'node:path'
import {writeFileAtomic} from '../lib/atomic-write.js'
import type {Logger} from '../lib/log.js'

// A daemon's audit events not yet taken by auth, on disk, so that they survive a restart or a
// crash. Append-only JSON lines: the event when it is emitted, `{"sent":"<uid>"}` once auth has
// it (or it was dropped), and the file is emptied whenever nothing is left to send. Each batch of
// lines is one write followed by fdatasync.
//
// At open the file is replayed: events without a `sent` line are handed back, in order, to be
// sent again; a line that does not parse (a write cut short by a crash) is skipped without
// hiding the others; the file is then rewritten with just those events. The same rewrite happens
// when lines of sent events pile up (auth slow to catch up), so the file stays bounded by the
// number of unsent events.

export type JournalEvent = Record<string, unknown> & {uid: string}

const TRUNCATE = Symbol('truncate')
const COMPACT = Symbol('compact')
/** Lines of sent events tolerated in the file beyond twice the number of unsent ones. */
const SLACK_LINES = 1000

export class EventJournal {
  private ops: Array<string | typeof TRUNCATE | typeof COMPACT> = []
  /** The line of each unsent event, in order: what a rewrite keeps. */
  private readonly unsent = new Map<string, string>()
  /** Lines in the file that a rewrite would drop. */
  private obsolete = 0
  private running = false
  private done: Promise<void> = Promise.resolve()
  private failing = false
  private closed = false

  private constructor(
    private readonly file: string,
    private handle: FileHandle,
    private readonly log: Logger,
    unsent: JournalEvent[],
  ) {
    for (const event of unsent) this.unsent.set(event.uid, line(event))
  }

  /** Opens (creating 0600 in a 0700 directory) the journal; returns it and the events still to send. */
  static async open(file: string, log: Logger): Promise<{journal: EventJournal; unsent: JournalEvent[]}> {
    const dir = path.dirname(file)
    await mkdir(dir, {recursive: true, mode: 0o700})
    await chmod(dir, 0o700)
    const unsent = replay(file, log)
    writeFileAtomic(file, unsent.map(line).join(''))
    return {journal: new EventJournal(file, await openForAppend(file), log, unsent), unsent}
  }

  append(event: JournalEvent): void {
    const text = line(event)
    this.unsent.set(event.uid, text)
    this.push(text)
  }

  sent(uid: string): void {
    if (!this.unsent.delete(uid)) return
    this.push(`${JSON.stringify({sent: uid})}\n`)
    this.obsolete += 2
    if (this.obsolete > SLACK_LINES + 2 * this.unsent.size) {
      this.obsolete = 0
      this.push(COMPACT)
    }
  }

  /** Nothing is left to send. */
  empty(): void {
    this.unsent.clear()
    this.obsolete = 0
    this.push(TRUNCATE)
  }

  /** Resolves once everything appended so far is on disk (or failed to be written, with a warning). */
  flush(): Promise<void> {
    return this.done
  }

  async close(): Promise<void> {
    this.closed = true
    await this.done
    await this.handle.close()
  }

  private push(op: string | typeof TRUNCATE | typeof COMPACT): void {
    // After close: a delivery still in flight is not recorded, so the next start sends that event
    // again (the one case where auth may get an event twice).
    if (this.closed) return
    this.ops.push(op)
    if (this.running) return
    this.running = true
    this.done = this.writeLoop()
  }

  private async writeLoop(): Promise<void> {
    try {
      while (this.ops.length) {
        const batch = this.ops.splice(0)
        try {
          let text = ''
          for (const op of batch) {
            if (typeof op === 'string') {
              text += op
            } else if (op === TRUNCATE) {
              // Pushed only when every event appended before it was sent: their lines need no write.
              text = ''
              await this.handle.truncate(0)
            } else {
              // The unsent events as they are now (those appended since are kept twice: replay
              // counts each uid once). Rename, then append to the new file.
              text = ''
              writeFileAtomic(this.file, [...this.unsent.values()].join(''))
              await this.handle.close()
              this.handle = await openForAppend(this.file)
            }
          }
          if (text) await this.handle.appendFile(text)
          await this.handle.datasync()
          if (this.failing) this.log.info(`audit: writing ${this.file} works again`)
          this.failing = false
        } catch (err) {
          if (!this.failing) this.log.warn(`audit: cannot write ${this.file} (${(err as Error).message}); unsent events are kept in memory only`)
          this.failing = true
        }
      }
    } finally {
      // Cleared in the same tick as the empty-queue check, so no op is left unwritten.
      this.running = false
    }
  }
}

function line(event: JournalEvent): string {
  return `${JSON.stringify(event)}\n`
}

/** Rename replaced whatever was at the path (a symlink is not followed); O_NOFOLLOW refuses one planted since. */
function openForAppend(file: string): Promise<FileHandle> {
  return open(file, constants.O_WRONLY | constants.O_APPEND | constants.O_NOFOLLOW)
}

function replay(file: string, log: Logger): JournalEvent[] {
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return []
    throw err
  }
  const unsent = new Map<string, JournalEvent>()
  let unreadable = 0
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue
    let entry: Record<string, unknown>
    try {
      entry = JSON.parse(line) as Record<string, unknown>
    } catch {
      unreadable++
      continue
    }
    if (typeof entry?.event === 'string' && typeof entry.uid === 'string') unsent.set(entry.uid, entry as JournalEvent)
    else if (typeof entry?.sent === 'string') unsent.delete(entry.sent)
    else unreadable++
  }
  if (unreadable) log.warn(`audit: skipped ${unreadable} unreadable line(s) in ${file} (a write cut short by a crash?)`)
  return [...unsent.values()]
}
