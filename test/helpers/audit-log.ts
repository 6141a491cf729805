import {readdirSync, readFileSync} from 'node:fs'
import path from 'node:path'
import type {AuditEvent} from '../../src/events/index.js'
import {poll} from './eventually.js'

// The audit log of a running `teleport start`, read from its data dir (`log/<UTC day>.log`, one
// JSON event per line) as an operator would with jq. Daemons write events a moment after they
// answer the client (nodes send theirs to auth in batches), so readers wait for them.

export class AuditLogReader {
  constructor(private readonly dataDir: string) {}

  /** Every event so far, oldest first (day files in name order, lines in file order). */
  all(): AuditEvent[] {
    const dir = path.join(this.dataDir, 'log')
    let files: string[]
    try {
      files = readdirSync(dir).filter((f) => f.endsWith('.log')).sort()
    } catch {
      return []
    }
    const events: AuditEvent[] = []
    for (const file of files) {
      for (const line of readFileSync(path.join(dir, file), 'utf8').split('\n')) {
        if (!line.trim()) continue
        try {
          events.push(JSON.parse(line) as AuditEvent)
        } catch {
          // a torn last line while the daemon writes: read again on the next poll
        }
      }
    }
    return events
  }

  /** A position to read from: events logged after it are "new". */
  mark(): number {
    return this.all().length
  }

  since(mark: number): AuditEvent[] {
    return this.all().slice(mark)
  }

  /**
   * The events after `mark` once one of them satisfies `wanted`; after `timeoutMs` without one,
   * the events that did arrive (so a test can say what was logged instead).
   */
  async waitFor(mark: number, wanted: (event: AuditEvent) => boolean, timeoutMs: number): Promise<{found?: AuditEvent; events: AuditEvent[]}> {
    let events: AuditEvent[] = []
    const found = await poll(() => (events = this.since(mark)).find(wanted), {timeoutMs})
    return {...(found ? {found} : {}), events}
  }
}
