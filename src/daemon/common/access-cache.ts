import type {Clock, Timer} from '../../lib/clock.js'
import type {Logger} from '../../lib/log.js'
import {findLockInForce, lockInForceMessage, type Lock, type LockSubject} from '../../services/locks.js'
import {AUTH_OUTAGE_STALE_MS, LastGood} from './last-good.js'

// What nodes and proxies know of locks and deleted users, polled from auth every few seconds so
// that a lock or a deletion reaches new and running sessions quickly. When auth cannot be reached
// the last good answers stay in force (a lock already known keeps refusing); a user never
// checked cannot be vouched for and is refused, as the role cache refuses unknown roles.

export const ACCESS_POLL_MS = 2_500

export interface AccessStateApi {
  listLocks(): Promise<Lock[]>
  userStatus(name: string): Promise<{exists: boolean}>
}

export interface AccessCacheOptions {
  clock: Clock
  log: Logger
  /** Users whose sessions are running: their existence is re-checked on every poll. */
  activeUsers?: () => Iterable<string>
  intervalMs?: number
}

export class AccessCache {
  private locks: Lock[] = []
  private locksAt: number | undefined
  /** Whether each user seen exists, as auth last said (served while auth is away, like any LastGood). */
  private readonly users = new Map<string, LastGood<boolean>>()
  private readonly listeners = new Set<() => void>()
  private timer: Timer | undefined
  private polling: Promise<void> | undefined

  constructor(
    private readonly api: AccessStateApi,
    private readonly options: AccessCacheOptions,
  ) {}

  /** First poll (failure tolerated: auth may come later), then one every interval. */
  async start(): Promise<void> {
    await this.refresh()
    this.timer = this.options.clock.setRepeating(this.options.intervalMs ?? ACCESS_POLL_MS, () => void this.refresh(), {unref: true})
  }

  stop(): void {
    this.timer?.cancel()
    this.timer = undefined
  }

  /** Called after every poll, so running sessions can be checked against the new state. */
  onChange(listener: () => void): void {
    this.listeners.add(listener)
  }

  /** Polls auth now: locks, and the existence of every active user. */
  refresh(): Promise<void> {
    this.polling ??= this.poll().finally(() => {
      this.polling = undefined
    })
    return this.polling
  }

  /**
   * Why a connection must be refused or ended, from what is known now (no call to auth): a lock in
   * force, or a user auth said no longer exists.
   */
  refusal(subject: LockSubject): string | undefined {
    const lock = findLockInForce(this.locks, subject, this.options.clock.now())
    if (lock) return lockInForceMessage(lock)
    if (subject.user !== undefined && this.users.get(subject.user)?.peek() === false) return `user ${JSON.stringify(subject.user)} no longer exists`
    return undefined
  }

  /**
   * For a new connection: the user's existence checked with auth unless checked within the poll
   * interval, then refusal(). Throws when auth cannot be reached and the user was never checked.
   */
  async check(subject: LockSubject & {user: string}): Promise<string | undefined> {
    try {
      await this.user(subject.user).get()
    } catch (err) {
      throw new Error(`cannot check user ${JSON.stringify(subject.user)} with the auth server: ${(err as Error).message}`)
    }
    return this.refusal(subject)
  }

  private async poll(): Promise<void> {
    try {
      this.locks = await this.api.listLocks()
      this.locksAt = this.options.clock.now().getTime()
    } catch (err) {
      const stale = this.locksAt === undefined ? 'none known yet' : `last good ${Math.round(this.age(this.locksAt) / 1000)}s ago`
      this.options.log.debug(`cannot refresh locks from auth (${stale}): ${(err as Error).message}`)
    }
    const active = new Set(this.options.activeUsers?.() ?? [])
    for (const [name, entry] of this.users) {
      if (!active.has(name) && entry.age() >= AUTH_OUTAGE_STALE_MS) this.users.delete(name)
    }
    await Promise.all([...active].map((name) => this.user(name).get({refresh: true}).catch(() => {})))
    for (const listener of this.listeners) listener()
  }

  private user(name: string): LastGood<boolean> {
    let entry = this.users.get(name)
    if (!entry) {
      const {clock, log} = this.options
      entry = new LastGood(async () => (await this.api.userStatus(name)).exists, {what: `user ${JSON.stringify(name)}`, freshMs: this.options.intervalMs ?? ACCESS_POLL_MS, clock, log})
      this.users.set(name, entry)
    }
    return entry
  }

  private age(at: number): number {
    return this.options.clock.now().getTime() - at
  }
}
