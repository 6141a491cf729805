import {unlink} from 'node:fs/promises'
import type {NodeAuthApi, SessionRecordingMode} from '../../../api/auth-api.js'
import type {EventFields} from '../../../events/index.js'
import {RecordingWriter, recoverRecording} from '../../../events/recording/index.js'
import {systemClock, type Clock} from '../../../lib/clock.js'
import {UserError} from '../../../lib/errors.js'
import type {Logger} from '../../../lib/log.js'
import type {SessionTap} from '../session/tap.js'
import {LiveUpload} from './live-upload.js'
import {recorderTap} from './recorder-tap.js'
import type {RecordingUploader} from './uploader.js'

// How the node records its sessions, in the mode auth says (auth_service.session_recording):
//   node       written to the data dir as the session runs, uploaded when it ends (uploader.ts)
//   node-sync  the same file, also streamed to auth every second; a session is refused when auth
//              cannot be reached, and ended when auth is lost during it
//   off        nothing recorded (session.start and session.end are still audited)
//   proxy*     the proxy records (recording proxy mode, src/daemon/proxy/recording-proxy/); the node
//              records nothing, and audits nothing of the sessions the proxy ran through it
// Recording never fails a session in `node` mode: a recording that cannot be written is logged.

/** node-sync, and auth cannot be reached: the session must not run unrecorded. */
export class RecordingRequiredError extends UserError {
  override name = 'RecordingRequiredError'
}

/** A session's recording before it starts: its tap, or abandoned if the session never starts. */
export interface SessionRecording {
  tap: SessionTap
  /** The session never started: the file goes. */
  abandon(): Promise<void>
}

export interface SessionRecorderOptions {
  mode: () => SessionRecordingMode
  uploader: RecordingUploader
  api: Pick<NodeAuthApi, 'ping' | 'appendRecording'>
  /** Resolves once the audit events emitted so far have reached auth. */
  delivered: () => Promise<void>
  log: Logger
  clock?: Clock
  /** How long node-sync waits for auth before refusing or ending a session (default 10 s). */
  syncDeadlineMs?: number
}

const DEFAULT_SYNC_DEADLINE_MS = 10_000

export class SessionRecorder {
  private readonly clock: Clock

  constructor(private readonly options: SessionRecorderOptions) {
    this.clock = options.clock ?? systemClock
  }

  /**
   * The cluster records at the proxy (proxy, proxy-sync): a session that came through the proxy is
   * audited and recorded there, so the node adds neither.
   */
  recordsAtProxy(): boolean {
    const mode = this.options.mode()
    return mode === 'proxy' || mode === 'proxy-sync'
  }

  /**
   * The recording of a session about to start; undefined when this cluster records nothing on the
   * node. `fields` go on every event; `onLost` ends the session (node-sync lost auth).
   */
  async open(sid: string, fields: EventFields, onLost: (message: string) => void): Promise<SessionRecording | undefined> {
    const {uploader, log} = this.options
    const mode = this.options.mode()
    if (mode !== 'node' && mode !== 'node-sync') return undefined
    const deadlineMs = this.options.syncDeadlineMs ?? DEFAULT_SYNC_DEADLINE_MS
    if (mode === 'node-sync') await this.requireAuth(deadlineMs)
    const file = uploader.claim(sid)
    let writer: RecordingWriter
    try {
      writer = await RecordingWriter.create(file, {
        clock: this.clock,
        fields: {...fields, sid},
        onFailure: (err) => log.warn(`recording: session ${sid} is no longer recorded (${err.message}); the session goes on and what was written will be uploaded`),
      })
    } catch (err) {
      uploader.release(sid)
      if (mode === 'node-sync') throw new RecordingRequiredError(`cannot record this session (${(err as Error).message}), and this cluster records every session (node-sync)`)
      log.warn(`recording: cannot record session ${sid} (${(err as Error).message}); the session runs unrecorded`)
      return undefined
    }
    const live = mode === 'node-sync'
      ? new LiveUpload({sid, writer, api: this.options.api, delivered: this.options.delivered, clock: this.clock, deadlineMs, onLost})
      : undefined
    const tap = recorderTap(writer, (closed) => {
      void closed
        .then(async () => {
          // A full disk stopped the writer mid-chunk: close what it wrote so that it plays to the end.
          if (writer.failed) await recoverRecording(file).catch(() => {})
          await live?.stop()
        })
        .finally(() => uploader.release(sid))
    })
    return {
      tap,
      abandon: async () => {
        await live?.stop()
        await writer.close()
        await unlink(file).catch(() => {})
        uploader.release(sid)
      },
    }
  }

  private async requireAuth(deadlineMs: number): Promise<void> {
    const deadline = new AbortController()
    try {
      await Promise.race([
        this.options.api.ping(),
        this.clock.sleep(deadlineMs, deadline.signal).then(() => Promise.reject(new Error(`no answer in ${deadlineMs / 1000} s`))),
      ])
    } catch (err) {
      throw new RecordingRequiredError(`the auth server cannot be reached (${(err as Error).message}), and this cluster records every session as it runs (node-sync): try again later`)
    } finally {
      deadline.abort()
    }
  }
}
