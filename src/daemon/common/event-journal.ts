import {constants, readFileSync} from 'node:fs'
import {chmod, mkdir, open, type FileHandle} from 'node:fs/promises'
import path from 'node:path'
import {writeFileAtomic} from '../../lib/atomic-write.js'
import type {Logger} from '../../lib/log.js'

// A daemon's audit events not yet taken by auth, on disk, so that they survive a restart or a
// crash. Append-only JSON lines: the event when it is emitted, `{"sent":"<uid>"}` once auth has
// it (or it was dropped), and the file is emptied whenever nothing is left to send. Each batch of
// lines is one write followed by fdatasync.
//
// At open the file is replayed: events without a `sent` line are handed back, in order, to be
// sent again; a line that does not parse (a write cut short by a crash) is skipped without
// hiding the others; the file is then rewritten with just those events.

export type JournalEvent = Record<string, unknown> & {uid: string}

const TRUNCATE = Symbol('truncate')

export class EventJournal {
  private ops: Array<string | typeof TRUNCATE> = []
  private running = false
  private done: Promise<void> = Promise.resolve()
  private failing = false
  private closed = false

  private constructor(
    private readonly file: string,
    private readonly handle: FileHandle,
    private readonly log: Logger,
  ) {}

  /** Opens (creating 0600 in a 0700 directory) the journal; returns it and the events still to send. */
  static async open(file: string, log: Logger): Promise<{journal: EventJournal; unsent: JournalEvent[]}> {
    const dir = path.dirname(file)
    await mkdir(dir, {recursive: true, mode: 0o700})
    await chmod(dir, 0o700)
    const unsent = replay(file, log)
    // Rename replaces whatever is at the path (a symlink is not followed); O_NOFOLLOW then refuses
    // one planted since.
    writeFileAtomic(file, unsent.map((e) => `${JSON.stringify(e)}\n`).join(''))
    const handle = await open(file, constants.O_WRONLY | constants.O_APPEND | constants.O_NOFOLLOW)
    return {journal: new EventJournal(file, handle, log), unsent}
  }

  append(event: JournalEvent): void {
    this.push(`${JSON.stringify(event)}\n`)
  }

  sent(uid: string): void {
    this.push(`${JSON.stringify({sent: uid})}\n`)
  }

  /** Nothing is left to send. */
  empty(): void {
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

  private push(op: string | typeof TRUNCATE): void {
    // After close (a delivery that was in flight): the next start replays the event, and that
    // copy is then the only one sent.
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
            if (op !== TRUNCATE) {
              text += op
              continue
            }
            // Pushed only when every event appended before it was sent: their lines need no write.
            text = ''
            await this.handle.truncate(0)
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
