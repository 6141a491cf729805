import type {NodeAuthApi, SessionTrackerUpdate} from '../../../api/auth-api.js'
import {systemClock, type Clock, type Timer} from '../../../lib/clock.js'
import type {Logger} from '../../../lib/log.js'

// The node's writes of its sessions' trackers to auth. Sessions hand it the tracker as it is now
// and never wait: one write per session is in flight at a time and changes made meanwhile are
// coalesced into the next one. Every tracker is renewed on the node's clock well before its expiry
// on auth; a failed write (auth away) is retried at the next renewal, logged once per outage.

/** How long auth keeps a tracker without renewal (at most what auth allows: a minute). */
export const TRACKER_TTL_MS = 30_000
/** How often live trackers are rewritten: three chances before one expires. */
export const TRACKER_RENEW_MS = 10_000

interface Entry {
  /** The tracker as the session last described it; undefined once the session ended. */
  update: SessionTrackerUpdate | undefined
  /** Something auth has not heard yet. */
  dirty: boolean
  inFlight?: Promise<void>
  /** When auth last took a write (its expiry runs from there); undefined: never. */
  writtenAt?: number
}

export interface SessionTrackerWriterOptions {
  api: Pick<NodeAuthApi, 'upsertSessionTracker' | 'removeSessionTracker'>
  log: Logger
  clock?: Clock
  renewMs?: number
  ttlMs?: number
}

export class SessionTrackerWriter {
  private readonly entries = new Map<string, Entry>()
  private readonly clock: Clock
  private readonly renewMs: number
  private readonly ttlMs: number
  private timer: Timer | undefined
  private failing = false
  private closed = false

  constructor(private readonly options: SessionTrackerWriterOptions) {
    this.clock = options.clock ?? systemClock
    this.renewMs = options.renewMs ?? TRACKER_RENEW_MS
    this.ttlMs = options.ttlMs ?? TRACKER_TTL_MS
  }

  /** Starts the renewals. */
  start(): void {
    this.timer ??= this.clock.setRepeating(this.renewMs, () => this.renew(), {unref: true})
  }

  /** The session's tracker as it is now: written soon, renewed until remove(). */
  write(sid: string, update: SessionTrackerUpdate): void {
    const entry = this.entries.get(sid) ?? {update, dirty: true}
    entry.update = update
    entry.dirty = true
    this.entries.set(sid, entry)
    this.flush(sid, entry)
  }

  /** The session ended: its tracker goes (retried while auth is away, until it would have expired anyway). */
  remove(sid: string): void {
    const entry = this.entries.get(sid)
    if (!entry) return
    entry.update = undefined
    entry.dirty = true
    this.flush(sid, entry)
  }

  /** Resolves once no write is in flight (tests; close). */
  async idle(): Promise<void> {
    for (let busy = this.inFlight(); busy.length > 0; busy = this.inFlight()) await Promise.all(busy)
  }

  /**
   * The node is stopping (its sessions are being ended): stops the renewals, removes every tracker
   * still there (once; one that fails expires on auth), and waits for those writes.
   */
  async close(): Promise<void> {
    this.timer?.cancel()
    this.timer = undefined
    for (const sid of [...this.entries.keys()]) this.remove(sid)
    await this.idle()
    this.closed = true
  }

  private inFlight(): Promise<void>[] {
    return [...this.entries.values()].flatMap((e) => (e.inFlight ? [e.inFlight] : []))
  }

  private renew(): void {
    for (const [sid, entry] of this.entries) {
      if (entry.inFlight) continue // that write renews it
      entry.dirty = true
      this.flush(sid, entry)
    }
  }

  private flush(sid: string, entry: Entry): void {
    if (entry.inFlight || !entry.dirty || this.closed) return
    // A removal auth never heard of, or whose tracker has expired there by now, has nothing left to remove.
    if (entry.update === undefined && (entry.writtenAt === undefined || this.clock.now().getTime() - entry.writtenAt >= this.ttlMs)) {
      this.entries.delete(sid)
      return
    }
    entry.dirty = false
    entry.inFlight = this.send(sid, entry.update).then(
      (ok) => {
        entry.inFlight = undefined
        if (!ok) {
          entry.dirty = true // the next renewal tries again
          return
        }
        entry.writtenAt = this.clock.now().getTime()
        if (entry.update === undefined && !entry.dirty) this.entries.delete(sid)
        else this.flush(sid, entry) // what changed while this write was in flight
      },
    )
  }

  /** One write; false when auth did not take it (logged once per outage). */
  private async send(sid: string, update: SessionTrackerUpdate | undefined): Promise<boolean> {
    try {
      if (update) await this.options.api.upsertSessionTracker(sid, {...update, ttlMs: this.ttlMs})
      else await this.options.api.removeSessionTracker(sid)
    } catch (err) {
      if (!this.failing) this.options.log.warn(`Cannot write session trackers to auth: ${(err as Error).message}; retrying every ${Math.round(this.renewMs / 1000)}s.`)
      this.failing = true
      return false
    }
    if (this.failing) this.options.log.info('Session trackers: auth takes them again.')
    this.failing = false
    return true
  }
}
