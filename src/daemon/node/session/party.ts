import type {ParticipantMode} from '../../../services/models/session-tracker.js'
import type {OutputStream, SessionExit} from './program.js'

// A party is someone attached to a session: the SSH channel that started it, a `tsh join`
// channel, a web terminal. Each has an output; a peer's input reaches the program; an observer's
// or moderator's keystrokes are commands to the session (Ctrl-C leaves, a moderator's `t`
// terminates), anything else is dropped.

export type PartyMode = ParticipantMode

/** Where a party's output goes (an SSH channel, a websocket, memory in tests). */
export interface PartyOutput {
  /** Takes the bytes; false when it wants no more until onceDrained calls back. */
  write(bytes: Buffer, stream: OutputStream): boolean
  onceDrained(callback: () => void): void
  /** The session is over: deliver what was written, then the exit (status or signal), then close. */
  end(exit: SessionExit): Promise<void>
}

export interface PartySpec {
  /** The cluster user. */
  user: string
  mode: PartyMode
  output: PartyOutput
  /** Keystrokes or stdin; EOF on it is EOF on the program's stdin (piped programs). */
  input?: NodeJS.ReadableStream
  /** The user's role names, for a moderated session's requirements. */
  roles?: readonly string[]
}

/** What taps learn of a party. */
export interface PartyInfo {
  id: string
  user: string
  mode: PartyMode
  roles?: readonly string[]
}

/** A party's handle on the session it joined. */
export interface Party extends PartyInfo {
  /** Detaches the party (its channel closed); the session hangs up when its last peer leaves. */
  leave(): void
  /** Resolves once the party is gone: it left, was sent away (Ctrl-C), or the session ended. */
  readonly left: Promise<void>
  /** Output bytes this party missed because it lagged (only parties that do not drive the flow). */
  readonly droppedBytes: number
}

/** How much output a party that does not drive the flow may have queued before chunks are dropped. */
export const LAGGING_PARTY_LIMIT_BYTES = 1 << 20

/**
 * The output a party has not taken yet. While the party's output is full, chunks wait here in
 * order; beyond `limit` queued bytes a chunk is dropped (counted, never reordered).
 */
export class OutputQueue {
  private chunks: {bytes: Buffer; stream: OutputStream}[] = []
  private queuedBytes = 0
  private full = false
  private closed = false
  private drainedWaiters: (() => void)[] = []
  droppedBytes = 0

  constructor(private readonly output: PartyOutput) {}

  /** Writes now or queues; false while the party's output is full. */
  offer(bytes: Buffer, stream: OutputStream, limit: number): boolean {
    if (this.closed) return true
    if (!this.full) {
      if (!this.output.write(bytes, stream)) this.waitForDrain()
      return !this.full
    }
    if (this.queuedBytes + bytes.length > limit) this.droppedBytes += bytes.length
    else {
      this.chunks.push({bytes, stream})
      this.queuedBytes += bytes.length
    }
    return false
  }

  /** Resolves once the output has taken everything offered (or the queue is closed). */
  whenDrained(): Promise<void> {
    if (!this.full || this.closed) return Promise.resolve()
    return new Promise((resolve) => this.drainedWaiters.push(resolve))
  }

  /** Calls back the next time the output has taken everything offered. */
  onceDrained(callback: () => void): void {
    void this.whenDrained().then(callback)
  }

  /** The party left: what is queued is dropped and waiters go free. */
  close(): void {
    this.closed = true
    this.chunks = []
    this.queuedBytes = 0
    this.settle()
  }

  private waitForDrain(): void {
    this.full = true
    this.output.onceDrained(() => this.drain())
  }

  private drain(): void {
    if (this.closed) return
    this.full = false
    while (this.chunks.length > 0) {
      const chunk = this.chunks.shift()!
      this.queuedBytes -= chunk.bytes.length
      if (!this.output.write(chunk.bytes, chunk.stream)) return this.waitForDrain()
    }
    this.settle()
  }

  private settle(): void {
    const waiters = this.drainedWaiters
    this.drainedWaiters = []
    for (const resolve of waiters) resolve()
  }
}
