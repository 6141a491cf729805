import {Backoff} from '../lib/backoff.js'
import {systemClock, type Clock} from '../lib/clock.js'
import type {Logger} from '../lib/log.js'
import type {Emitter} from './emitter.js'
import type {AuditEvent} from './event.js'
import type {EventJournal, JournalEvent} from './event-journal.js'

// An Emitter in front of another (a node's or proxy's: the auth API's) that survives the other
// being away. Events go on in order; while the inner emitter fails they wait and are retried with
// backoff, and emit never waits for it nor fails, so serving never stops because auth is down.
// With a journal they also wait on disk, so a restart or a crash loses none: the unsent events of
// the last run go first, each once (at least once: see EventJournal.push). The queue is bounded:
// past MAX_QUEUED the oldest events are dropped, with one warning.

const MAX_QUEUED = 10_000
const MIN_RETRY_MS = 500
const MAX_RETRY_MS = 30_000

export interface BufferedEmitterOptions {
  log: Logger
  /** Times the retries. */
  clock?: Clock
  /** The journal and the events it still held (EventJournal.open). */
  saved?: {journal: EventJournal; unsent: JournalEvent[]}
}

export class BufferedEmitter implements Emitter {
  private readonly queue: JournalEvent[]
  private sending = false
  private readonly retry: Backoff
  private dropped = 0
  private closed = false
  private idleWaiters: (() => void)[] = []
  private readonly journal: EventJournal | undefined
  private readonly log: Logger
  private readonly clock: Clock

  constructor(
    private readonly inner: Emitter,
    options: BufferedEmitterOptions,
  ) {
    this.log = options.log
    this.clock = options.clock ?? systemClock
    this.retry = new Backoff(this.clock, MIN_RETRY_MS, MAX_RETRY_MS)
    this.journal = options.saved?.journal
    this.queue = [...(options.saved?.unsent ?? [])]
    if (this.queue.length) this.log.info(`audit: ${this.queue.length} event(s) from before the restart wait for the auth server`)
    this.trim()
    this.kick()
  }

  /** Queues the event (and appends it to the journal); resolves at once, never rejects. */
  emit(event: AuditEvent): Promise<void> {
    if (this.closed) return Promise.resolve()
    this.queue.push(event)
    this.journal?.append(event)
    this.trim()
    this.kick()
    return Promise.resolve()
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
    this.retry.cancel()
    if (this.queue.length && !this.sending) this.kick()
    if (graceMs > 0) {
      // A deadline on the last network attempt, so real time even when the clock is a test's: a
      // stopping daemon must not wait on a clock nobody moves. Not unref'd: the caller awaits it.
      const graceOver = new AbortController()
      await Promise.race([this.idle(), systemClock.sleep(graceMs, graceOver.signal).catch(() => {})])
      graceOver.abort()
    }
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
    if (this.sending || this.retry.pending || this.closed) return
    void this.drain()
  }

  private async drain(): Promise<void> {
    this.sending = true
    try {
      while (this.queue.length) {
        const event = this.queue[0]!
        try {
          await this.inner.emit(event as AuditEvent)
        } catch (err) {
          if (isRefusal(err)) {
            // The inner emitter will never take this one (a bad field): drop it, keep the rest flowing.
            this.log.warn(`audit: the auth server refused a ${String(event.event)} event: ${(err as Error).message}`)
            this.done(event)
            continue
          }
          if (this.retry.fresh) this.log.warn(`audit: cannot reach the auth server (${(err as Error).message}); events are kept and retried`)
          if (!this.closed) this.retry.schedule(() => this.kick())
          return
        }
        this.done(event)
        this.retry.succeeded()
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

/** An answer (auth's 4xx), as opposed to not reaching it. */
function isRefusal(err: unknown): boolean {
  const name = (err as Error)?.name
  return name === 'BadParameterError' || name === 'AccessDeniedError' || name === 'NotFoundError'
}
