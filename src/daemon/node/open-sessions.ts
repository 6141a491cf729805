import {chmodSync, mkdirSync, readdirSync, readFileSync, rmSync} from 'node:fs'
import path from 'node:path'
import type {EventFields} from '../../events/index.js'
import {writeFileAtomic} from '../../lib/atomic-write.js'
import {systemClock, type Clock, type Timer} from '../../lib/clock.js'
import type {Logger} from '../../lib/log.js'

// The sessions running on this node, each with a marker on disk (<dir>/<sid>.json, 0600) holding
// what its session.end needs, so that a session whose node was killed still gets one: at the
// next start every marker left behind becomes a session.end with reason "node restarted" and,
// as session_stop, the last time this node saw the session running (markers are refreshed every
// REFRESH_MS). A session that ends normally removes its marker.

const REFRESH_MS = 60_000
const MARKER = /^[0-9a-f-]{36}\.json$/

/** The session.end fields known when the session starts (sid, user, login, session_start...). */
export type SessionEndFields = EventFields & {sid: string}

interface Marker {
  fields: SessionEndFields
  /** The last time the node saw the session running (ISO). */
  lastSeen: string
}

export class OpenSessions {
  private readonly live = new Map<string, SessionEndFields>()
  private timer: Timer | undefined

  /** `persisted`: resolves once the audit events emitted so far are on disk (BufferedEmitter.persisted). */
  constructor(
    private readonly dir: string,
    private readonly persisted: () => Promise<void>,
    private readonly log: Logger,
    private readonly clock: Clock = systemClock,
  ) {
    mkdirSync(dir, {recursive: true, mode: 0o700})
    chmodSync(dir, 0o700)
  }

  opened(fields: SessionEndFields): void {
    this.live.set(fields.sid, fields)
    this.write(fields)
  }

  /** The session ended and its session.end was emitted: the marker goes once that event is on disk (resolves then). */
  closed(sid: string): Promise<void> {
    if (!this.live.delete(sid)) return Promise.resolve()
    return this.persisted().then(() => rmSync(this.file(sid), {force: true}))
  }

  /** Keeps the markers' lastSeen current while the node runs. */
  startRefreshing(): void {
    this.timer ??= this.clock.setRepeating(REFRESH_MS, () => this.refresh(), {unref: true})
  }

  stopRefreshing(): void {
    this.timer?.cancel()
    this.timer = undefined
  }

  refresh(): void {
    for (const fields of this.live.values()) this.write(fields)
  }

  /** Sessions a previous run left open: `end` emits each one's session.end; then the markers go. */
  async recover(end: (fields: EventFields) => void): Promise<number> {
    const found: string[] = []
    for (const name of readdirSync(this.dir)) {
      const file = path.join(this.dir, name)
      if (!MARKER.test(name)) {
        if (name.endsWith('.tmp')) rmSync(file, {force: true}) // a marker write cut short
        continue
      }
      let marker: Marker
      try {
        marker = JSON.parse(readFileSync(file, 'utf8')) as Marker
        if (typeof marker.fields?.sid !== 'string' || typeof marker.lastSeen !== 'string') throw new Error('missing fields')
      } catch (err) {
        this.log.warn(`audit: ignoring unreadable session marker ${file}: ${(err as Error).message}`)
        rmSync(file, {force: true})
        continue
      }
      end({...marker.fields, session_stop: marker.lastSeen, reason: 'node restarted'})
      found.push(file)
    }
    if (found.length === 0) return 0
    await this.persisted()
    for (const file of found) rmSync(file, {force: true})
    this.log.info(`audit: ${found.length} session(s) left open by the previous run ended with reason "node restarted"`)
    return found.length
  }

  private write(fields: SessionEndFields): void {
    const marker: Marker = {fields, lastSeen: this.clock.now().toISOString()}
    try {
      writeFileAtomic(this.file(fields.sid), JSON.stringify(marker))
    } catch (err) {
      this.log.warn(`audit: cannot record session ${fields.sid} on disk (${(err as Error).message}); if the node dies it gets no session.end`)
    }
  }

  private file(sid: string): string {
    return path.join(this.dir, `${sid}.json`)
  }
}
