import {DEFAULT_SEARCH_LIMIT, type SearchPage} from './emitter.js'
import type {AuditEvent} from './event.js'

// Following the pages of an audit search (tctl events ls, tsh recordings ls) up to a limit.

export interface FoundEvents {
  events: AuditEvent[]
  /** More events match than the limit let through. */
  more: boolean
}

/** Up to `limit` events, asking `page` for one page at a time (each at most DEFAULT_SEARCH_LIMIT). */
export async function collectPages(page: (request: {limit: number; startKey?: string}) => Promise<SearchPage>, limit: number): Promise<FoundEvents> {
  const events: AuditEvent[] = []
  let startKey: string | undefined
  do {
    const found = await page({limit: Math.min(limit - events.length, DEFAULT_SEARCH_LIMIT), ...(startKey ? {startKey} : {})})
    events.push(...found.events)
    startKey = found.nextKey
  } while (startKey !== undefined && events.length < limit)
  // A full last page may be followed by an empty one: ask, so that "more" is never a false alarm.
  const more = startKey !== undefined && (await page({limit: 1, startKey})).events.length > 0
  return {events, more}
}
