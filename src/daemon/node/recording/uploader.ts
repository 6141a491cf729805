import {createReadStream} from 'node:fs'
import {mkdir, readdir, rename, stat, unlink} from 'node:fs/promises'
import path from 'node:path'
import type {NodeAuthApi} from '../../../api/auth-api.js'
import {RecordingDamagedError, RecordingReader, recoverRecording} from '../../../events/recording/index.js'
import {Backoff} from '../../../lib/backoff.js'
import {systemClock, type Clock} from '../../../lib/clock.js'
import type {Logger} from '../../../lib/log.js'

// Uploads the node's finished recordings to auth, in the background, until auth has each one.
// A recording is a file <dir>/<sid>.tsrec; while its session runs it is claimed and left alone.
// Each upload asks auth how much it already has and sends only the rest (RecordingStore's
// protocol), so an upload cut by a failure resumes where it stopped. Failures are retried with
// back-off (1 s doubling to 30 s); once auth has a recording whole, the local file goes.
//
// Auth accepts a recording only from the node whose session.start it holds, so an upload first
// waits for the node's queued audit events to be delivered (they wait on disk while auth is away).
// A file that is not a readable recording is moved to `corruptedDir`, never deleted.

const RECORDING_FILE = /^([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\.tsrec$/
const MIN_RETRY_MS = 1000
const MAX_RETRY_MS = 30_000

export interface RecordingUploaderOptions {
  dir: string
  corruptedDir: string
  api: Pick<NodeAuthApi, 'recordingUploaded' | 'appendRecording' | 'completeRecording'>
  /** Resolves once the audit events emitted so far have reached auth. */
  delivered: () => Promise<void>
  log: Logger
  clock?: Clock
}

export class RecordingUploader {
  private readonly writing = new Set<string>()
  private readonly clock: Clock
  private readonly retry: Backoff
  private passing = false
  private again = false
  private closed = false
  private idleWaiters: (() => void)[] = []

  constructor(private readonly options: RecordingUploaderOptions) {
    this.clock = options.clock ?? systemClock
    this.retry = new Backoff(this.clock, MIN_RETRY_MS, MAX_RETRY_MS)
  }

  /** Where session `sid` is recorded. */
  file(sid: string): string {
    return path.join(this.options.dir, `${sid}.tsrec`)
  }

  /** The session is being recorded: its file is not uploaded until released. */
  claim(sid: string): string {
    this.writing.add(sid)
    return this.file(sid)
  }

  /** The session's recording is closed: upload it now. */
  release(sid: string): void {
    this.writing.delete(sid)
    this.kick()
  }

  /**
   * At start, before any session: closes what a crash left open (recoverRecording keeps every whole
   * chunk) and moves aside what is not a recording. Then uploads everything there is.
   */
  async recover(): Promise<void> {
    await mkdir(this.options.dir, {recursive: true, mode: 0o700})
    for (const sid of await this.recordings()) {
      const file = this.file(sid)
      try {
        const recovered = await recoverRecording(file)
        if (recovered.changed) {
          this.options.log.info(`recording: session ${sid} was cut short by a crash; recovered ${recovered.events} event(s)${recovered.cutBytes ? `, ${recovered.cutBytes} torn byte(s) dropped` : ''}`)
        }
      } catch (err) {
        if (err instanceof RecordingDamagedError) await this.moveAside(sid, err.message)
        else this.options.log.warn(`recording: cannot recover ${file}: ${(err as Error).message}`)
      }
    }
    this.kick()
  }

  /** Starts a pass over the waiting recordings (or another one after the pass under way). */
  kick(): void {
    if (this.closed) return
    if (this.passing) {
      this.again = true
      return
    }
    this.retry.cancel()
    void this.pass()
  }

  /** Resolves when no pass is under way and none is due (tests). */
  idle(): Promise<void> {
    if (!this.passing && !this.retry.pending) return Promise.resolve()
    return new Promise((resolve) => this.idleWaiters.push(resolve))
  }

  close(): void {
    this.closed = true
    this.retry.cancel()
    this.wakeIdle()
  }

  private async pass(): Promise<void> {
    this.passing = true
    let failure: Error | undefined
    try {
      for (const sid of await this.recordings()) {
        if (this.closed) break
        if (this.writing.has(sid)) continue
        try {
          await this.upload(sid)
        } catch (err) {
          failure = err as Error
          if (this.retry.fresh) this.options.log.warn(`recording: cannot upload session ${sid} to the auth server (${failure.message}); it stays on this node and is retried`)
          break
        }
      }
    } catch (err) {
      failure = err as Error
      this.options.log.warn(`recording: cannot list ${this.options.dir}: ${failure.message}`)
    }
    this.passing = false
    if (this.closed) return this.wakeIdle()
    if (failure) return this.retry.schedule(() => this.kick())
    this.retry.succeeded()
    if (this.again) {
      this.again = false
      return this.kick()
    }
    this.wakeIdle()
  }

  private async upload(sid: string): Promise<void> {
    const {api, log} = this.options
    const file = this.file(sid)
    try {
      await (await RecordingReader.open(file)).close()
    } catch (err) {
      if (err instanceof RecordingDamagedError) return this.moveAside(sid, err.message)
      throw err
    }
    const size = (await stat(file)).size
    await this.options.delivered()
    const {bytes: held} = await api.recordingUploaded(sid)
    if (held > size) return this.moveAside(sid, `the auth server holds ${held} bytes of it, more than the ${size} here`)
    if (held < size) {
      const {bytes} = await api.appendRecording(sid, held, createReadStream(file, {start: held}))
      if (bytes !== size) throw new Error(`the auth server has ${bytes} of ${size} bytes after the upload`)
    }
    await api.completeRecording(sid, {size})
    await unlink(file)
    log.info(`recording: session ${sid} uploaded to the auth server (${size} bytes${held ? `, resumed at ${held}` : ''})`)
  }

  private async moveAside(sid: string, reason: string): Promise<void> {
    const {corruptedDir, log} = this.options
    await mkdir(corruptedDir, {recursive: true, mode: 0o700})
    const to = path.join(corruptedDir, `${sid}.${this.clock.now().getTime()}.tsrec`)
    await rename(this.file(sid), to)
    log.warn(`recording: ${this.file(sid)} is not a readable recording (${reason}); moved to ${to}`)
  }

  private async recordings(): Promise<string[]> {
    let names: string[]
    try {
      names = await readdir(this.options.dir)
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return []
      throw err
    }
    return names.flatMap((name) => RECORDING_FILE.exec(name)?.[1] ?? []).sort()
  }

  private wakeIdle(): void {
    if (this.passing || this.retry.pending) return
    for (const wake of this.idleWaiters.splice(0)) wake()
  }
}
