// Search semantics shared by every AuditLog, so the memory twin and the file log answer alike.
import {BadParameterError} from '../lib/errors.js'
import {DEFAULT_SEARCH_LIMIT, MAX_SEARCH_LIMIT, type SearchOrder, type SearchPage, type SearchQuery} from './emitter.js'
import type {AuditEvent} from './event.js'
import {decodePageKey, encodePageKey, type PageKey} from './page-key.js'

export interface NormalisedQuery {
  fromMs: number
  toMs: number
  /** Undefined keeps every type. */
  types?: ReadonlySet<string>
  /** Undefined keeps every user / session. */
  user?: string
  sid?: string
  limit: number
  order: SearchOrder
  /** Where the previous page ended; the range above already starts (or ends, desc) at its time. */
  after?: PageKey
}

export function normaliseQuery(query: SearchQuery): NormalisedQuery {
  const fromMs = dateMs(query.from, 'from')
  const toMs = dateMs(query.to, 'to')
  if (fromMs > toMs) throw new BadParameterError('search range is empty: "from" is after "to"')
  const limit = query.limit ?? DEFAULT_SEARCH_LIMIT
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_SEARCH_LIMIT) {
    throw new BadParameterError(`search limit must be an integer from 1 to ${MAX_SEARCH_LIMIT}, got ${limit}`)
  }
  const order = query.order ?? 'asc'
  if (order !== 'asc' && order !== 'desc') throw new BadParameterError(`search order must be "asc" or "desc", got ${String(order)}`)
  const types = query.types && query.types.length > 0 ? new Set(query.types) : undefined
  const user = query.user ? query.user : undefined
  const sid = query.sid ? query.sid : undefined
  if (!query.startKey) return {fromMs, toMs, types, user, sid, limit, order}
  // Later pages read only from where the last one ended (a range left empty finds nothing).
  const after = decodePageKey(query.startKey, order)
  return order === 'asc'
    ? {fromMs: Math.max(fromMs, after.timeMs), toMs, types, user, sid, limit, order, after}
    : {fromMs, toMs: Math.min(toMs, after.timeMs), types, user, sid, limit, order, after}
}

/** The page that `query`'s results make: a full page carries the key of its last event. */
export function pageOf(events: AuditEvent[], query: SearchQuery): SearchPage {
  const last = events[events.length - 1]
  const full = events.length >= (query.limit ?? DEFAULT_SEARCH_LIMIT)
  return full && last !== undefined ? {events, nextKey: encodePageKey(last, query.order ?? 'asc')} : {events}
}

function dateMs(value: Date, name: string): number {
  const ms = value instanceof Date ? value.getTime() : Number.NaN
  if (Number.isNaN(ms)) throw new BadParameterError(`search "${name}" must be a valid Date`)
  return ms
}

export function matchesQuery(event: AuditEvent, timeMs: number, query: NormalisedQuery): boolean {
  if (timeMs < query.fromMs || timeMs > query.toMs) return false
  if (query.user !== undefined && event.user !== query.user) return false
  if (query.sid !== undefined && event.sid !== query.sid) return false
  return query.types === undefined || query.types.has(event.event)
}

interface Candidate {
  event: AuditEvent
  timeMs: number
  /** Emission (or read) order, to break ties between equal times stably. */
  seq: number
}

/**
 * Keeps the best `limit` matches in output order while events arrive in any order, in O(limit)
 * memory: a log file is in append order, which is not strictly time order (late events, skewed
 * clocks), so stopping at the first `limit` lines read would be wrong.
 */
export class ResultCollector {
  private readonly kept: Candidate[] = []
  /**
   * Matches at exactly the page key's time: which of them the last page returned depends on where
   * its last event lies among them, known only once all are read (they all lie in one day file).
   */
  private readonly ties: Candidate[] = []
  private afterSeq: number | undefined

  constructor(private readonly query: NormalisedQuery) {}

  get full(): boolean {
    return this.kept.length >= this.query.limit
  }

  offer(event: AuditEvent, timeMs: number, seq: number): void {
    const after = this.query.after
    if (after !== undefined && timeMs === after.timeMs) {
      if (event.uid === after.uid) this.afterSeq = seq
      else this.ties.push({event, timeMs, seq})
      return
    }
    this.keep({event, timeMs, seq})
  }

  results(): AuditEvent[] {
    // Ties past the last page's event (in output order) are still to come; if that event is not
    // found (the filters changed between pages), none of them was returned yet.
    for (const tie of this.ties.splice(0)) {
      const past = this.afterSeq === undefined || (this.query.order === 'asc' ? tie.seq > this.afterSeq : tie.seq < this.afterSeq)
      if (past) this.keep(tie)
    }
    return this.kept.map((c) => c.event)
  }

  private keep(candidate: Candidate): void {
    const last = this.kept[this.kept.length - 1]
    if (this.full && last !== undefined && this.compare(candidate, last) >= 0) return
    this.kept.splice(this.insertionIndex(candidate), 0, candidate)
    if (this.kept.length > this.query.limit) this.kept.pop()
  }

  /** Negative when `a` comes first in the output. */
  private compare(a: Candidate, b: Candidate): number {
    const ascending = a.timeMs - b.timeMs || a.seq - b.seq
    return this.query.order === 'asc' ? ascending : -ascending
  }

  private insertionIndex(candidate: Candidate): number {
    let low = 0
    let high = this.kept.length
    while (low < high) {
      const mid = (low + high) >>> 1
      if (this.compare(this.kept[mid]!, candidate) <= 0) low = mid + 1
      else high = mid
    }
    return low
  }
}
