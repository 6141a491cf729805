// The embedded default AuditLog: JSON lines under <data_dir>/log/, one file per UTC day, chosen by
// each event's own `time` (stamped through the Clock seam by makeEvent), so rotation needs no
// timer and follows a FakeClock in tests exactly.
//
// Durability: each batch of events is written with ONE write() on a file opened O_APPEND, then
// fdatasync'd before any emit in it resolves. One write per batch means a line is never torn by a
// concurrent writer; the sync means an event reported as stored survives a power cut, which
// matters for an audit trail (the last events before an incident are the ones wanted). Emits that
// arrive while a batch is being synced wait for the next batch, so the sync cost is shared
// ("group commit") instead of paid once per event. `sync: false` skips the fdatasync.
//
// A crash mid-write can still leave a partial last line; the first append to a file in a process
// starts with a newline if the file does not end with one, so the next event is not glued to the
// fragment (the fragment is then skipped by search as one corrupt line).
import {chmod, mkdir, open, type FileHandle} from 'node:fs/promises'
import {join} from 'node:path'
import {escapeEncoded} from '../lib/safe-text.js'
import {prepareForStorage, type AuditLog, type SearchQuery} from './emitter.js'
import type {AuditEvent} from './event.js'
import {checkWriterName, dayFileName, dayFilesInRange, utcDay} from './day-files.js'
import {readEventLines} from './line-reader.js'
import {ResultCollector, matchesQuery, normaliseQuery} from './search-query.js'

export interface FileAuditLogOptions {
  /** The data dir; events go to `<dataDir>/log/` unless `dir` says otherwise. */
  dataDir: string
  /** The directory of the day files instead (one several auth servers share: audit_events_uri). */
  dir?: string
  /**
   * This process's name among several writing `dir` (its host UUID): it appends only to its own
   * `<day>.<writer>.log`, and a search reads every writer's.
   */
  writer?: string
  /** fdatasync each batch before its emits resolve. Default true. */
  sync?: boolean
  /** Hears non-fatal problems (corrupt lines skipped, secret fields stripped). Default: process warning. */
  onWarning?: (message: string) => void
}

const DIR_MODE = 0o700
const FILE_MODE = 0o600

interface PendingLine {
  path: string
  line: string
  resolve(): void
  reject(error: unknown): void
}

export class FileAuditLog implements AuditLog {
  /** `<dataDir>/log` or the shared directory: where the day files live. */
  readonly dir: string
  private readonly writer: string | undefined
  private readonly sync: boolean
  private readonly warn: (message: string) => void
  private queue: PendingLine[] = []
  private flushRunning = false
  private flushDone: Promise<void> = Promise.resolve()
  /** Files already checked for a trailing newline and mode in this process. */
  private readonly touched = new Set<string>()
  private corruptSkipped = 0
  private closed = false

  private constructor(options: FileAuditLogOptions) {
    this.dir = options.dir ?? join(options.dataDir, 'log')
    this.writer = options.writer
    this.sync = options.sync ?? true
    this.warn = options.onWarning ?? ((message) => process.emitWarning(message, {code: 'TELEPORT_AUDIT_LOG'}))
  }

  /** Creates the directory (mode 0700) if needed and returns a log writing there. */
  static async open(options: FileAuditLogOptions): Promise<FileAuditLog> {
    if (options.writer !== undefined) checkWriterName(options.writer)
    const log = new FileAuditLog(options)
    await mkdir(log.dir, {recursive: true, mode: DIR_MODE})
    // mkdir's mode applies only to a directory it creates (and through the umask): set it outright.
    await chmod(log.dir, DIR_MODE)
    return log
  }

  /** Corrupt lines skipped by searches since this log was opened. */
  get corruptLinesSkipped(): number {
    return this.corruptSkipped
  }

  async emit(event: AuditEvent): Promise<void> {
    this.assertOpen()
    const clean = prepareForStorage(event, (paths) =>
      this.warn(`audit event ${event.event}: dropped secret-like field(s) ${paths.join(', ')}`),
    )
    const path = join(this.dir, dayFileName(clean.time.slice(0, 10), this.writer))
    // Escaped beyond JSON's own rules, so that `cat`/`tail -f` of the file cannot drive a terminal.
    const line = `${escapeEncoded(JSON.stringify(clean))}\n`
    const stored = new Promise<void>((resolve, reject) => this.queue.push({path, line, resolve, reject}))
    this.kickFlush()
    return stored
  }

  async search(query: SearchQuery): Promise<AuditEvent[]> {
    this.assertOpen()
    const normalised = normaliseQuery(query)
    const files = await dayFilesInRange(this.dir, utcDay(normalised.fromMs), utcDay(normalised.toMs))
    if (normalised.order === 'desc') files.reverse()
    const collector = new ResultCollector(normalised)
    let seq = 0
    for (const [index, file] of files.entries()) {
      const summary = await readEventLines(file.path, (event, timeMs) => {
        if (matchesQuery(event, timeMs, normalised)) collector.offer(event, timeMs, seq)
        seq++
      })
      if (summary.corrupt > 0) {
        this.corruptSkipped += summary.corrupt
        this.warn(`audit log ${file.path}: skipped ${summary.corrupt} corrupt line(s), first at line ${summary.firstCorruptLine}`)
      }
      // Days do not overlap in time, so once full, files of days further away cannot improve the
      // result (another writer's file of the same day still can).
      if (collector.full && files[index + 1]?.day !== file.day) break
    }
    return collector.results()
  }

  async close(): Promise<void> {
    this.closed = true
    await this.flushDone
  }

  private kickFlush(): void {
    if (this.flushRunning) return
    this.flushRunning = true
    this.flushDone = this.flushLoop()
  }

  /** Writes queued lines until the queue is empty; emits arriving meanwhile join the next batch. */
  private async flushLoop(): Promise<void> {
    try {
      while (this.queue.length > 0) {
        const batch = this.queue
        this.queue = []
        for (const [path, lines] of groupByFile(batch)) {
          try {
            await this.appendLines(path, lines.map((p) => p.line).join(''))
            for (const pending of lines) pending.resolve()
          } catch (error) {
            for (const pending of lines) pending.reject(error)
          }
        }
      }
    } finally {
      // Cleared in the same tick as the empty-queue check, so no emit can be left unflushed.
      this.flushRunning = false
    }
  }

  private async appendLines(path: string, text: string): Promise<void> {
    const handle = await open(path, 'a+', FILE_MODE)
    try {
      if (!this.touched.has(path)) {
        await handle.chmod(FILE_MODE)
        if (await endsWithoutNewline(handle)) text = `\n${text}`
        this.touched.add(path)
      }
      await writeAll(handle, Buffer.from(text, 'utf8'))
      if (this.sync) await handle.datasync()
    } finally {
      await handle.close()
    }
  }

  private assertOpen(): void {
    if (this.closed) throw new Error('audit log is closed')
  }
}

function groupByFile(batch: PendingLine[]): Map<string, PendingLine[]> {
  const groups = new Map<string, PendingLine[]>()
  for (const pending of batch) {
    const group = groups.get(pending.path)
    if (group) group.push(pending)
    else groups.set(pending.path, [pending])
  }
  return groups
}

async function endsWithoutNewline(handle: FileHandle): Promise<boolean> {
  const {size} = await handle.stat()
  if (size === 0) return false
  const last = Buffer.alloc(1)
  await handle.read(last, 0, 1, size - 1)
  return last[0] !== 0x0a
}

/** A regular file takes the whole buffer in one write(); loop only for the rare short write. */
async function writeAll(handle: FileHandle, buffer: Buffer): Promise<void> {
  let offset = 0
  while (offset < buffer.length) {
    const {bytesWritten} = await handle.write(buffer, offset, buffer.length - offset)
    offset += bytesWritten
  }
}
