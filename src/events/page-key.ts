// The opaque next-page token of an audit search (Teleport's startKey): where the last page ended,
// as the last event's time and uid and the order it was read in. The uid, not a count, marks the
// place, so events arriving between pages (or equal times) neither repeat nor go missing.
import {BadParameterError} from '../lib/errors.js'
import type {SearchOrder} from './emitter.js'
import {EVENT_TIME_PATTERN, eventTimeMs, type AuditEvent} from './event.js'

export interface PageKey {
  /** The last returned event's time, epoch ms. */
  timeMs: number
  uid: string
  order: SearchOrder
}

export function encodePageKey(last: AuditEvent, order: SearchOrder): string {
  return Buffer.from(JSON.stringify({t: last.time, u: last.uid, o: order}), 'utf8').toString('base64url')
}

export function decodePageKey(key: string, order: SearchOrder): PageKey {
  let parsed: unknown
  try {
    parsed = JSON.parse(Buffer.from(key, 'base64url').toString('utf8'))
  } catch {
    parsed = undefined
  }
  const {t, u, o} = (parsed ?? {}) as {t?: unknown; u?: unknown; o?: unknown}
  if (typeof t !== 'string' || !EVENT_TIME_PATTERN.test(t) || typeof u !== 'string' || u === '' || (o !== 'asc' && o !== 'desc')) {
    throw new BadParameterError('the page key is not one a search returned')
  }
  if (o !== order) throw new BadParameterError(`the page key continues a search in "${o}" order, not "${order}"`)
  return {timeMs: eventTimeMs({time: t} as AuditEvent), uid: u, order: o}
}
