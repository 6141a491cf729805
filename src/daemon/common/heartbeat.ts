import type {NodeAuthApi, NodeInfo} from '../../api/auth-api.js'
import {systemClock, type Clock, type Timer} from '../../lib/clock.js'
import {NotFoundError} from '../../lib/errors.js'
import type {Logger} from '../../lib/log.js'

// A host's presence (REFERENCE.md "Presence"), nodes' and proxies' alike: the whole record is
// announced (upsert) at start, every ~5 minutes with jitter, and at once when something in it
// changes; in between a keepalive every minute pushes the expiry. Auth being unreachable is
// retried with backoff and logged once per outage; it never stops the host.

export type NodeAnnouncement = Omit<NodeInfo, 'expires'>

/** Where a host's record is written: its kind's upsert and keepalive on the auth API. */
export interface PresenceWriter<R extends {name: string}> {
  upsert(record: R): Promise<unknown>
  /** NotFoundError when the record expired (it is then announced whole). */
  keepAlive(name: string): Promise<unknown>
}

/** A node's record, on the node routes. */
export function nodePresence(api: Pick<NodeAuthApi, 'upsertNode' | 'keepAliveNode'>): PresenceWriter<NodeAnnouncement> {
  return {upsert: (record) => api.upsertNode(record), keepAlive: (name) => api.keepAliveNode(name)}
}

export interface HeartbeatTiming {
  announceMs: number
  keepAliveMs: number
  /** First retry after a failure; doubles up to maxBackoffMs. */
  minBackoffMs: number
  maxBackoffMs: number
}

export const DEFAULT_HEARTBEAT_TIMING: HeartbeatTiming = {
  announceMs: 5 * 60_000,
  keepAliveMs: 60_000,
  minBackoffMs: 1000,
  maxBackoffMs: 60_000,
}

export class Heartbeat<R extends {name: string}> {
  private timer: Timer | undefined
  private nextAnnounceAt = 0
  private mustAnnounce = true
  private backoffMs: number
  private failing = false
  private running: Promise<void> | undefined
  private stopped = false

  constructor(
    private readonly api: PresenceWriter<R>,
    private readonly record: () => R,
    private readonly log: Logger,
    private readonly timing: HeartbeatTiming = DEFAULT_HEARTBEAT_TIMING,
    private readonly clock: Clock = systemClock,
  ) {
    this.backoffMs = timing.minBackoffMs
  }

  /** Announces once (waiting for it, never throwing), then keeps the record alive. */
  async start(): Promise<void> {
    await this.beat()
  }

  /** Something in the record changed: announce now. */
  changed(): void {
    this.mustAnnounce = true
    if (this.stopped || this.running) return
    this.clearTimer()
    void this.beat()
  }

  async stop(): Promise<void> {
    this.stopped = true
    this.clearTimer()
    await this.running?.catch(() => {})
  }

  private clearTimer(): void {
    this.timer?.cancel()
    this.timer = undefined
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return
    this.clearTimer()
    this.timer = this.clock.setTimer(delayMs, () => {
      this.timer = undefined
      void this.beat()
    }, {unref: true})
  }

  private beat(): Promise<void> {
    const run = this.beatOnce().finally(() => {
      this.running = undefined
      // A change that arrived while this beat was in flight still gets its announcement.
      if (this.mustAnnounce && !this.failing && !this.stopped) this.schedule(0)
    })
    this.running = run
    return run
  }

  private async beatOnce(): Promise<void> {
    if (this.stopped) return
    const announce = this.mustAnnounce || this.now() >= this.nextAnnounceAt
    try {
      if (announce) {
        this.mustAnnounce = false
        await this.api.upsert(this.record())
        this.nextAnnounceAt = this.now() + jittered(this.timing.announceMs)
      } else {
        try {
          await this.api.keepAlive(this.record().name)
        } catch (err) {
          if (!(err instanceof NotFoundError)) throw err
          // The record expired (a long outage): announce it whole.
          await this.api.upsert(this.record())
          this.nextAnnounceAt = this.now() + jittered(this.timing.announceMs)
        }
      }
      if (this.failing) this.log.info('Heartbeat: the auth server is reachable again.')
      this.failing = false
      this.backoffMs = this.timing.minBackoffMs
      this.schedule(Math.min(this.timing.keepAliveMs, Math.max(0, this.nextAnnounceAt - this.now())))
    } catch (err) {
      if (announce) this.mustAnnounce = true
      if (!this.failing) this.log.warn(`Heartbeat to the auth server failed: ${(err as Error).message}; retrying with backoff.`)
      this.failing = true
      this.schedule(this.backoffMs)
      this.backoffMs = Math.min(this.backoffMs * 2, this.timing.maxBackoffMs)
    }
  }

  private now(): number {
    return this.clock.now().getTime()
  }
}

/** ±20%, so that a fleet restarted together does not announce in lockstep. */
function jittered(ms: number): number {
  return Math.round(ms * (0.8 + Math.random() * 0.4))
}
