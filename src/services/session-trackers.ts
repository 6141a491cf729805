// Live sessions: the tracker of each running session under /session_trackers/<sid>, written by
// the node running it with a short backend expiry that the node renews. A node that stops
// renewing (crashed, cut off) loses its sessions from the list when the expiry passes.
import type {Backend, Item} from '../backend/backend.js'
import {checkSessionId} from '../events/recording-store/index.js'
import {AccessDeniedError, AlreadyExistsError, CompareFailedError, LimitExceededError, NotFoundError} from '../lib/errors.js'
import {BackendService} from './backend-service.js'
import type {Clock} from '../lib/clock.js'
import {validateSessionTrackerUpdate, type SessionTracker, type SessionTrackerUpdate} from './models/session-tracker.js'
import {compareCodeUnits} from '../lib/compare.js'

export * from './models/session-tracker.js'

/** How long a tracker lives without renewal: a crashed node's sessions leave the list within a minute. */
export const SESSION_TRACKER_TTL_MS = 30_000
/** Live sessions one node may have: a bound on what a misbehaving node can make every listing carry. */
export const MAX_TRACKERS_PER_HOST = 1000
const PREFIX = '/session_trackers/'
const CAS_RETRIES = 20

type Stored = Omit<SessionTracker, 'expires'>

export class SessionTrackerService extends BackendService {
  private readonly maxPerHost: number

  constructor(backend: Backend, options: {clock?: Clock; maxPerHost?: number} = {}) {
    super(backend, options)
    this.maxPerHost = options.maxPerHost ?? MAX_TRACKERS_PER_HOST
  }

  /**
   * Creates or replaces the tracker of session `sid` run by host `hostId`, expiring `ttlMs` (default
   * 30 s) from now. A tracker held by another host is refused (AccessDeniedError), atomically; a
   * new one past the host's limit (MAX_TRACKERS_PER_HOST) is refused (LimitExceededError).
   */
  async upsert(sid: string, hostId: string, raw: SessionTrackerUpdate): Promise<SessionTracker> {
    checkSessionId(sid)
    const {ttlMs, ...update} = validateSessionTrackerUpdate(raw)
    const stored: Stored = {...update, sessionId: sid, hostId}
    const value = JSON.stringify(stored)
    for (let attempt = 0; ; attempt++) {
      const expires = new Date(this.clock.now().getTime() + (ttlMs ?? SESSION_TRACKER_TTL_MS))
      const existing = await this.find(PREFIX + sid)
      try {
        if (!existing) {
          if ((await this.list()).filter((t) => t.hostId === hostId).length >= this.maxPerHost) throw new LimitExceededError(`host ${hostId} already has ${this.maxPerHost} live sessions`)
          await this.backend.create({key: PREFIX + sid, value, expires})
        } else {
          assertOwner(toTracker(existing), hostId)
          await this.backend.compareAndSwap(existing.value, {key: PREFIX + sid, value, expires})
        }
        return {...stored, expires: expires.toISOString()}
      } catch (err) {
        // Another write (or an expiry) came in between: decide again on what is there now.
        const raced = err instanceof AlreadyExistsError || err instanceof CompareFailedError || err instanceof NotFoundError
        if (!raced || attempt >= CAS_RETRIES) throw err
      }
    }
  }

  /** The session ended: its tracker goes. Nothing there (it expired) is fine; another host's is refused. */
  async remove(sid: string, hostId: string): Promise<void> {
    checkSessionId(sid)
    for (let attempt = 0; ; attempt++) {
      const existing = await this.find(PREFIX + sid)
      if (!existing) return
      assertOwner(toTracker(existing), hostId)
      try {
        await this.backend.atomicWrite([{op: 'delete', key: PREFIX + sid}], [{key: PREFIX + sid, kind: 'value-equals', value: existing.value}])
        return
      } catch (err) {
        if (!(err instanceof CompareFailedError) || attempt >= CAS_RETRIES) throw err
      }
    }
  }

  /** The live tracker of `sid`, or undefined. */
  async get(sid: string): Promise<SessionTracker | undefined> {
    checkSessionId(sid)
    const item = await this.find(PREFIX + sid)
    return item && toTracker(item)
  }

  /** Live trackers (the backend hides expired ones), oldest session first. */
  async list(): Promise<SessionTracker[]> {
    return (await this.backend.getRange(PREFIX))
      .map(toTracker)
      .sort((a, b) => compareCodeUnits(a.created, b.created) || compareCodeUnits(a.sessionId, b.sessionId))
  }
}

function assertOwner(tracker: SessionTracker, hostId: string): void {
  if (tracker.hostId !== hostId) throw new AccessDeniedError(`session ${tracker.sessionId} runs on another host`)
}

function toTracker(item: Item): SessionTracker {
  const stored = JSON.parse(item.value) as Stored
  return {...stored, expires: (item.expires ?? new Date(8_640_000_000_000_000)).toISOString()}
}
