import {systemClock, type Clock, type Timer} from '../clock.js'
import type {Logger} from '../log.js'

// Connections that have not authenticated yet, on a listener: each must finish its login within a
// deadline from accept (OpenSSH's LoginGraceTime), and only so many may be in their handshake at
// once, per source address and in total (OpenSSH's PerSourceMaxStartups / MaxStartups). A
// connection over those caps is not dropped (a burst of honest clients from one NAT or one
// machine would lose connections): it waits, its handshake not started, until a place frees, in
// arrival order, its deadline running. Only past the caps on waiting connections (OpenSSH's
// "full") is it closed at once. Memory stays bounded: a waiting socket is not read beyond its
// stream buffer, and there are at most maxWaiting of them. Authenticated connections are not
// counted, nor are those a proxy of ours relays for a client it has authenticated (vouched): the
// proxy counted them while they were anonymous.

export interface StartupLimits {
  /** From accept to authentication, waiting included. */
  graceMs: number
  /** Handshakes in progress from one address; more wait. */
  maxPerSource: number
  /** Handshakes in progress on the listener; more wait. */
  maxTotal: number
  /** Connections waiting from one address; more are closed at once. */
  maxWaitingPerSource: number
  /** Connections waiting on the listener; more are closed at once. */
  maxWaiting: number
}

/**
 * sshd allows 120 s; Teleport's own handshakes finish in well under a second, so 60 s is ample,
 * waiting included. 1024 waiting from one address covers a NAT of busy users; 4096 in all bounds
 * memory (a waiting socket holds at most its stream buffer).
 */
export const DEFAULT_STARTUP_LIMITS: StartupLimits = {graceMs: 60_000, maxPerSource: 32, maxTotal: 256, maxWaitingPerSource: 1024, maxWaiting: 4096}

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
  /** waiting: not started yet; started: counted in its handshake; vouched: started, no longer counted. */
  state: 'waiting' | 'started' | 'vouched'
  start: () => void
}

/** Counts by source and in all. */
class Tally {
  total = 0
  private readonly bySource = new Map<string, number>()

  of(source: string): number {
    return this.bySource.get(source) ?? 0
  }

  add(source: string, delta: number): void {
    this.total += delta
    const count = this.of(source) + delta
    if (count > 0) this.bySource.set(source, count)
    else this.bySource.delete(source)
  }
}

export class StartupLimiter {
  readonly limits: StartupLimits
  private readonly pending = new Map<object, Pending>()
  /** Waiting connections in arrival order. */
  private readonly queue = new Map<object, Pending>()
  private readonly started = new Tally()
  private readonly waiting = new Tally()
  private draining = false
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

  /** Connections in their handshake now (all sources). */
  get size(): number {
    return this.started.total
  }

  /** Connections waiting for their handshake to start (all sources). */
  get waitingCount(): number {
    return this.waiting.total
  }

  /**
   * Takes a new connection from `source`: runs `start` (which begins its handshake) now when there
   * is room, later when a place frees, or closes the connection when even the waiting caps are
   * reached (false). Its login deadline runs from now.
   */
  admit(socket: PendingSocket, source: string, start: () => void): boolean {
    const mayStart = this.hasRoom(source)
    if (!mayStart && !this.mayWait(source)) return this.refuse(socket, source)
    const timer = this.clock.setTimer(this.limits.graceMs, () => {
      this.log.debug(`${this.listener}: closing a connection from ${source} that did not authenticate within ${this.limits.graceMs / 1000} s`)
      socket.destroy()
    }, {unref: true})
    const entry: Pending = {socket, source, timer, state: 'waiting', start}
    this.pending.set(socket, entry)
    socket.once('close', () => this.authenticated(socket))
    if (mayStart) this.begin(entry)
    else {
      this.queue.set(socket, entry)
      this.waiting.add(source, 1)
    }
    return true
  }

  /**
   * A connection a proxy of ours relays for a client it authenticated (the node checked the
   * proxy's signed preamble): no longer counted, so a burst of users' sessions through the proxy
   * waits on nobody here; its deadline stays until the user logs in to this server too.
   */
  vouched(socket: object): void {
    const entry = this.pending.get(socket)
    if (entry?.state !== 'started') return
    entry.state = 'vouched'
    this.started.add(entry.source, -1)
    this.drain()
  }

  /** The connection logged in (or closed): no longer counted, no deadline; a waiting one may start. */
  authenticated(socket: object): void {
    const entry = this.pending.get(socket)
    if (!entry) return
    entry.timer.cancel()
    this.pending.delete(socket)
    if (entry.state === 'started') this.started.add(entry.source, -1)
    if (entry.state === 'waiting') {
      this.queue.delete(socket)
      this.waiting.add(entry.source, -1)
    }
    this.drain()
  }

  /** Closes every pending connection, waiting or not (the listener is stopping). */
  closeAll(): void {
    // The waiting first: a started one closing would start them.
    for (const {socket} of [...this.queue.values(), ...this.pending.values()]) socket.destroy()
  }

  private hasRoom(source: string): boolean {
    return this.started.total < this.limits.maxTotal && this.started.of(source) < this.limits.maxPerSource
  }

  private mayWait(source: string): boolean {
    return this.waiting.total < this.limits.maxWaiting && this.waiting.of(source) < this.limits.maxWaitingPerSource
  }

  private begin(entry: Pending): void {
    entry.state = 'started'
    this.started.add(entry.source, 1)
    entry.start()
  }

  /** Starts waiting connections, oldest first, while there is room (a source at its cap is skipped, not the others). */
  private drain(): void {
    if (this.draining) return // a start that closed its socket at once re-enters here
    this.draining = true
    try {
      for (const entry of this.queue.values()) {
        if (this.started.total >= this.limits.maxTotal) break
        if (!this.hasRoom(entry.source)) continue
        this.queue.delete(entry.socket)
        this.waiting.add(entry.source, -1)
        this.begin(entry)
      }
    } finally {
      this.draining = false
    }
  }

  private refuse(socket: PendingSocket, source: string): false {
    socket.destroy()
    this.refusedSinceLog++
    const now = this.clock.now().getTime()
    if (now - this.lastLogAt >= REFUSAL_LOG_INTERVAL_MS) {
      const {maxPerSource, maxWaitingPerSource, maxTotal, maxWaiting} = this.limits
      this.log.warn(
        `${this.listener}: refused ${this.refusedSinceLog} connection(s) over the limit of unauthenticated connections ` +
          `(latest from ${source}, which has ${this.started.of(source)} of ${maxPerSource} in their handshake and ${this.waiting.of(source)} of ${maxWaitingPerSource} waiting; ` +
          `${this.started.total} of ${maxTotal} and ${this.waiting.total} of ${maxWaiting} in all)`,
      )
      this.lastLogAt = now
      this.refusedSinceLog = 0
    }
    return false
  }
}
