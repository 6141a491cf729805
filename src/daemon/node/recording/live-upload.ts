import {createReadStream} from 'node:fs'
import {stat} from 'node:fs/promises'
import type {NodeAuthApi} from '../../../api/auth-api.js'
import type {RecordingWriter} from '../../../events/recording/index.js'
import type {Clock, Timer} from '../../../lib/clock.js'

// node-sync: while the session runs, what the writer has put on disk goes to auth every second
// (the writer itself writes at least once a second), so auth holds the session live. When auth
// cannot take it, the session is ended (onLost): in this mode no session runs unrecorded. What is
// left when the session ends, and the completion, are the uploader's as in `node` mode.

const PUSH_INTERVAL_MS = 1000

export interface LiveUploadOptions {
  sid: string
  writer: RecordingWriter
  api: Pick<NodeAuthApi, 'appendRecording'>
  delivered: () => Promise<void>
  clock: Clock
  deadlineMs: number
  onLost: (message: string) => void
}

export class LiveUpload {
  private sent = 0
  private pushing: Promise<void> = Promise.resolve()
  private busy = false
  private lost = false
  private readonly timer: Timer

  constructor(private readonly options: LiveUploadOptions) {
    this.timer = options.clock.setRepeating(PUSH_INTERVAL_MS, () => this.tick(), {unref: true})
  }

  /** Stops pushing; resolves once a push under way is done. */
  async stop(): Promise<void> {
    this.timer.cancel()
    await this.pushing
  }

  private tick(): void {
    if (this.busy || this.lost) return
    this.busy = true
    this.pushing = this.push().finally(() => (this.busy = false))
  }

  private async push(): Promise<void> {
    const {sid, writer, api, clock, deadlineMs} = this.options
    try {
      await writer.written()
      const size = (await stat(writer.file)).size
      if (size <= this.sent) return
      const deadline = new AbortController()
      const timeout = clock.sleep(deadlineMs, deadline.signal).then(() => Promise.reject(new Error(`no answer in ${deadlineMs / 1000} s`)))
      try {
        // Auth takes a recording only once it holds the session.start, which the audit queue carries.
        await Promise.race([this.sent === 0 ? this.options.delivered() : Promise.resolve(), timeout])
        const {bytes} = await Promise.race([api.appendRecording(sid, this.sent, createReadStream(writer.file, {start: this.sent, end: size - 1})), timeout])
        this.sent = bytes
      } finally {
        deadline.abort()
      }
    } catch (err) {
      this.lost = true
      this.timer.cancel()
      this.options.onLost(`Teleport > The auth server stopped taking this session's recording (${(err as Error).message}), and this cluster records every session as it runs (node-sync): the session ends.`)
    }
  }
}
