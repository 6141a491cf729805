// Search semantics shared by every AuditLog, so the memory twin and the file log answer alike.
import {BadParameterError} from '../lib/errors.js'
import {DEFAULT_SEARCH_LIMIT, MAX_SEARCH_LIMIT, type SearchOrder, type SearchQuery} from './emitter.js'
import type {AuditEvent} from './event.js'

export interface NormalisedQuery {
  fromMs: number
  toMs: number
  /** Undefined keeps every type. */
  types?: ReadonlySet<string>
  limit: number
  order: SearchOrder
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
  return {fromMs, toMs, types, limit, order}
}

function dateMs(value: Date, name: string): number {
  const ms = value instanceof Date ? value.getTime() : Number.NaN
  if (Number.isNaN(ms)) throw new BadParameterError(`search "${name}" must be a valid Date`)
  return ms
}

export function matchesQuery(event: AuditEvent, timeMs: number, query: NormalisedQuery): boolean {
  if (timeMs < query.fromMs || timeMs > query.toMs) return false
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

  constructor(private readonly query: NormalisedQuery) {}

  get full(): boolean {
    return this.kept.length >= this.query.limit
  }

  offer(event: AuditEvent, timeMs: number, seq: number): void {
    const candidate = {event, timeMs, seq}
    const last = this.kept[this.kept.length - 1]
    if (this.full && last !== undefined && this.compare(candidate, last) >= 0) return
    this.kept.splice(this.insertionIndex(candidate), 0, candidate)
    if (this.kept.length > this.query.limit) this.kept.pop()
  }

  results(): AuditEvent[] {
    return this.kept.map((c) => c.event)
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
