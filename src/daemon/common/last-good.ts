import {systemClock, type Clock} from '../../lib/clock.js'
import {AccessDeniedError} from '../../lib/errors.js'
import type {Logger} from '../../lib/log.js'

// One value a daemon fetches from auth and keeps (the node list, the CA keys, a role...).
// - Fresh for `freshMs`: a burst of callers costs one fetch (concurrent callers share it).
// - When a fetch fails because auth is away, the last good value keeps serving until it is
//   `staleMs` old, so proxies and nodes work through an auth outage; the debug log says how
//   stale. Past that, the fetch's error is thrown: deny by default.
// - Once a fetch failed, callers are served the old value at once and auth is asked again in the
//   background, at most every `freshMs`, until it answers.
// - A refusal (AccessDeniedError: auth answered "no") is never covered with an old value.

/** How long a value from auth may serve while auth is unreachable. */
export const AUTH_OUTAGE_STALE_MS = 10 * 60_000

export interface LastGoodOptions {
  /** What the value is, for the log: "node list", `role "ops"`. */
  what: string
  freshMs: number
  staleMs?: number
  clock?: Clock
  log?: Logger
}

export interface Fetched<T> {
  value: T
  /** The value is from an earlier fetch (it may miss a change made since). */
  cached: boolean
}

export class LastGood<T> {
  private last: {value: T; at: number} | undefined
  private failedAt: number | undefined
  private pending: Promise<T> | undefined
  private readonly staleMs: number
  private readonly clock: Clock

  constructor(
    private readonly fetch: () => Promise<T>,
    private readonly options: LastGoodOptions,
  ) {
    this.staleMs = options.staleMs ?? AUTH_OUTAGE_STALE_MS
    this.clock = options.clock ?? systemClock
  }

  /** `refresh`: fetch even when the value is fresh (unless auth is known to be away). */
  async get(options: {refresh?: boolean} = {}): Promise<Fetched<T>> {
    const last = this.last
    const now = this.now()
    if (last && !options.refresh && now - last.at < this.options.freshMs) return {value: last.value, cached: true}
    if (last && this.failedAt !== undefined && now - last.at < this.staleMs) {
      // Auth is known to be away: callers get the old value at once while one fetch at a time
      // (at most every freshMs) finds out whether it is back; a dead host's connect timeout
      // then delays no one.
      if (now - this.failedAt >= this.options.freshMs) this.fetchShared().catch(() => {})
      return this.serveStale(last, 'auth unreachable')
    }
    try {
      return {value: await this.fetchShared(), cached: false}
    } catch (err) {
      if (err instanceof AccessDeniedError || !last || this.now() - last.at >= this.staleMs) throw err
      return this.serveStale(last, `auth unreachable (${(err as Error).message})`)
    }
  }

  /** The last value fetched, however old, without asking auth (undefined before the first). */
  peek(): T | undefined {
    return this.last?.value
  }

  /** How old the last value is, in ms (Infinity before the first). */
  age(): number {
    return this.last ? this.now() - this.last.at : Infinity
  }

  private serveStale(last: {value: T; at: number}, why: string): Fetched<T> {
    const ageS = Math.round((this.now() - last.at) / 1000)
    this.options.log?.debug(`${why}; serving ${this.options.what} from ${ageS}s ago`)
    return {value: last.value, cached: true}
  }

  private fetchShared(): Promise<T> {
    this.pending ??= this.fetch().then(
      (value) => {
        this.last = {value, at: this.now()}
        this.failedAt = undefined
        this.pending = undefined
        return value
      },
      (err: unknown) => {
        this.failedAt = this.now()
        this.pending = undefined
        throw err
      },
    )
    return this.pending
  }

  private now(): number {
    return this.clock.now().getTime()
  }
}
