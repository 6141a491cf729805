import type {AuthApi} from '../../api/auth-api.js'
import {makeEvent, type EventCode, type EventFields, type EventName} from '../../events/index.js'
import type {Logger} from '../../lib/log.js'
import type {EventJournal, JournalEvent} from './event-journal.js'

// A daemon's audit events (a node's, a proxy's) go to auth (AuthApi.emitEvent) in order. While
// auth is unreachable they wait and are retried with backoff; serving never stops because auth is
// down. With a journal they also wait on disk, so a restart or a crash loses none: the unsent
// events of the last run go first, each once. The queue is bounded: past MAX_QUEUED the oldest
// events are dropped, with one warning.

const MAX_QUEUED = 10_000
const MIN_RETRY_MS = 500
const MAX_RETRY_MS = 30_000

export class AuditBuffer {
  private readonly queue: JournalEvent[]
  private sending = false
  private retryTimer: NodeJS.Timeout | undefined
  private retryMs = MIN_RETRY_MS
  private dropped = 0
  private closed = false
  private idleWaiters: (() => void)[] = []
  private readonly journal: EventJournal | undefined

  /** `saved`: the journal and the events it still held (EventJournal.open). */
  constructor(
    private readonly api: Pick<AuthApi, 'emitEvent'>,
    private readonly log: Logger,
    saved?: {journal: EventJournal; unsent: JournalEvent[]},
  ) {
    this.journal = saved?.journal
    this.queue = [...(saved?.unsent ?? [])]
    if (this.queue.length) this.log.info(`audit: ${this.queue.length} event(s) from before the restart wait for the auth server`)
    this.trim()
    this.kick()
  }

  emit(name: EventName, code: EventCode, fields: EventFields): void {
    if (this.closed) return
    const event = makeEvent(name, code, fields) as JournalEvent
    this.queue.push(event)
    this.journal?.append(event)
    this.trim()
    this.kick()
  }

  /** Resolves once every event emitted so far is on disk. */
  persisted(): Promise<void> {
    return this.journal?.flush() ?? Promise.resolve()
  }

  /** Resolves when every queued event has been delivered (for tests and a clean stop). */
  idle(): Promise<void> {
    if (this.queue.length === 0 && !this.sending) return Promise.resolve()
    return new Promise((resolve) => this.idleWaiters.push(resolve))
  }

  /** Stops retrying; tries once more to deliver what is queued, for at most `graceMs`. */
  async close(graceMs = 3000): Promise<void> {
    if (this.retryTimer) clearTimeout(this.retryTimer)
    this.retryTimer = undefined
    if (this.queue.length && !this.sending) this.kick()
    // Not unref'd: the caller awaits this, so the process must live until it settles.
    let grace: NodeJS.Timeout | undefined
    await Promise.race([this.idle(), new Promise((resolve) => (grace = setTimeout(resolve, graceMs)))])
    clearTimeout(grace)
    this.closed = true
    if (this.queue.length) {
      this.log.warn(`audit: ${this.queue.length} event(s) could not be delivered to the auth server before stopping${this.journal ? '; they are sent after the next start' : ''}`)
    }
    await this.journal?.close()
  }

  private trim(): void {
    while (this.queue.length > MAX_QUEUED) {
      this.done(this.queue[0]!)
      if (this.dropped++ === 0) this.log.warn(`audit: more than ${MAX_QUEUED} events wait for the auth server; dropping the oldest`)
    }
  }

  /** The first queued event was delivered (or given up on): off the queue, and off the disk. */
  private done(event: JournalEvent): void {
    if (this.queue[0] !== event) return // dropped by trim() while it was being sent
    this.queue.shift()
    if (this.queue.length === 0) this.journal?.empty()
    else this.journal?.sent(event.uid)
  }

  private kick(): void {
    if (this.sending || this.retryTimer || this.closed) return
    void this.drain()
  }

  private async drain(): Promise<void> {
    this.sending = true
    try {
      while (this.queue.length) {
        const event = this.queue[0]!
        try {
          await this.api.emitEvent(event)
        } catch (err) {
          if (isRefusal(err)) {
            // The auth server will never take this one (a bad field): drop it, keep the rest flowing.
            this.log.warn(`audit: the auth server refused a ${String(event.event)} event: ${(err as Error).message}`)
            this.done(event)
            continue
          }
          if (this.retryMs === MIN_RETRY_MS) this.log.warn(`audit: cannot reach the auth server (${(err as Error).message}); events are kept and retried`)
          if (!this.closed) {
            this.retryTimer = setTimeout(() => {
              this.retryTimer = undefined
              this.kick()
            }, this.retryMs)
            this.retryTimer.unref()
          }
          this.retryMs = Math.min(this.retryMs * 2, MAX_RETRY_MS)
          return
        }
        this.done(event)
        this.retryMs = MIN_RETRY_MS
      }
    } finally {
      this.sending = false
      if (this.queue.length === 0) {
        const waiters = this.idleWaiters
        this.idleWaiters = []
        for (const resolve of waiters) resolve()
      }
    }
  }
}

/** An answer from auth (4xx), as opposed to not reaching it. */
function isRefusal(err: unknown): boolean {
  const name = (err as Error)?.name
  return name === 'BadParameterError' || name === 'AccessDeniedError' || name === 'NotFoundError'
}
