// The in-memory AuditLog: for tests only (nothing persists). It applies the same validation,
// secrets guard and search semantics as the file log, so a test against it means the same thing.
import type {AuditLog, SearchQuery} from './emitter.js'
import {prepareForStorage} from './emitter.js'
import {eventTimeMs, type AuditEvent} from './event.js'
import {ResultCollector, matchesQuery, normaliseQuery} from './search-query.js'

export class MemoryAuditLog implements AuditLog {
  private readonly stored: AuditEvent[] = []
  private closed = false

  async emit(event: AuditEvent): Promise<void> {
    this.assertOpen()
    // Stored as its JSON round trip so that a test sees exactly what the file log would return.
    this.stored.push(JSON.parse(JSON.stringify(prepareForStorage(event))) as AuditEvent)
  }

  async search(query: SearchQuery): Promise<AuditEvent[]> {
    this.assertOpen()
    const normalised = normaliseQuery(query)
    const collector = new ResultCollector(normalised)
    this.stored.forEach((event, seq) => {
      const timeMs = eventTimeMs(event)
      if (matchesQuery(event, timeMs, normalised)) collector.offer(structuredClone(event), timeMs, seq)
    })
    return collector.results()
  }

  /** Every stored event in emission order (copies): for assertions. */
  all(): AuditEvent[] {
    return this.stored.map((event) => structuredClone(event))
  }

  async close(): Promise<void> {
    this.closed = true
  }

  private assertOpen(): void {
    if (this.closed) throw new Error('audit log is closed')
  }
}
