import {systemClock, type Clock, type Timer} from '../clock.js'
import type {Logger} from '../log.js'

// Connections that have not authenticated yet, on an SSH listener: each must finish its login
// within a deadline (OpenSSH's LoginGraceTime), and only so many may be pending per source
// address and in total (OpenSSH's MaxStartups / PerSourceMaxStartups). Excess connections are
// closed at once. Authenticated connections are not counted, nor are those a proxy of ours relays
// for a client it has authenticated (vouched): the proxy counted them while they were anonymous.

export interface StartupLimits {
  /** From accept to authentication. */
  graceMs: number
  /** Pending connections from one address. */
  maxPerSource: number
  /** Pending connections on the listener. */
  maxTotal: number
}

/** sshd allows 120 s; Teleport's own handshakes finish in well under a second, so 60 s is ample. */
export const DEFAULT_STARTUP_LIMITS: StartupLimits = {graceMs: 60_000, maxPerSource: 32, maxTotal: 256}

/** Refusals are logged at most once per this interval (a flood must not flood the log). */
const REFUSAL_LOG_INTERVAL_MS = 60_000

/** What the limiter needs of a socket. */
export interface PendingSocket {
  destroy(): void
  once(event: 'close', listener: () => void): unknown
}

interface Pending {
  socket: PendingSocket
  source: string
  timer: Timer
  /** Still counted against its source and the total (false once vouched for). */
  counted: boolean
}

export class StartupLimiter {
  readonly limits: StartupLimits
  private readonly pending = new Map<object, Pending>()
  private readonly perSource = new Map<string, number>()
  private counted = 0
  private refusedSinceLog = 0
  private lastLogAt = -Infinity

  constructor(
    private readonly listener: string,
    private readonly log: Pick<Logger, 'warn' | 'debug'>,
    limits: Partial<StartupLimits> = {},
    private readonly clock: Clock = systemClock,
  ) {
    this.limits = {...DEFAULT_STARTUP_LIMITS, ...limits}
  }

  /** Connections counted now (all sources). */
  get size(): number {
    return this.counted
  }

  /** Counts a new connection from `source`, or closes it when a limit is reached. */
  admit(socket: PendingSocket, source: string): boolean {
    if (!this.hasRoom(source)) return this.refuse(socket, source)
    const timer = this.clock.setTimer(this.limits.graceMs, () => {
      this.log.debug(`${this.listener}: closing a connection from ${source} that did not authenticate within ${this.limits.graceMs / 1000} s`)
      socket.destroy()
    }, {unref: true})
    this.pending.set(socket, {socket, source, timer, counted: true})
    this.add(source, 1)
    socket.once('close', () => this.authenticated(socket))
    return true
  }

  /**
   * A connection a proxy of ours relays for a client it authenticated (the node checked the
   * proxy's signed preamble): no longer counted, so a burst of users' sessions through the proxy
   * is not refused here; its deadline stays until the user logs in to this server too.
   */
  vouched(socket: object): void {
    const entry = this.pending.get(socket)
    if (!entry?.counted) return
    entry.counted = false
    this.add(entry.source, -1)
  }

  /** The connection logged in (or closed): no longer counted, no deadline. */
  authenticated(socket: object): void {
    const entry = this.pending.get(socket)
    if (!entry) return
    entry.timer.cancel()
    this.pending.delete(socket)
    if (entry.counted) this.add(entry.source, -1)
  }

  /** Closes every pending connection (the listener is stopping). */
  closeAll(): void {
    for (const {socket} of [...this.pending.values()]) socket.destroy()
  }

  private hasRoom(source: string): boolean {
    return this.counted < this.limits.maxTotal && (this.perSource.get(source) ?? 0) < this.limits.maxPerSource
  }

  private add(source: string, delta: number): void {
    this.counted += delta
    const count = (this.perSource.get(source) ?? 0) + delta
    if (count > 0) this.perSource.set(source, count)
    else this.perSource.delete(source)
  }

  private refuse(socket: PendingSocket, source: string): false {
    socket.destroy()
    this.refusedSinceLog++
    const now = this.clock.now().getTime()
    if (now - this.lastLogAt >= REFUSAL_LOG_INTERVAL_MS) {
      const fromSource = this.perSource.get(source) ?? 0
      this.log.warn(
        `${this.listener}: refused ${this.refusedSinceLog} connection(s) over the limit of unauthenticated connections ` +
          `(latest from ${source}, which has ${fromSource} of ${this.limits.maxPerSource}; ${this.counted} of ${this.limits.maxTotal} in all)`,
      )
      this.lastLogAt = now
      this.refusedSinceLog = 0
    }
    return false
  }
}
