// The audit seams. Emitter is the one way an event goes anywhere: the auth service's log
// (FileAuditLog, MemoryAuditLog in tests) is one, a node's or proxy's path to auth is another
// (a BufferedEmitter around the auth API's). Logs store through prepareForStorage, so validation
// and the secrets guard cannot be skipped.
import type {Clock} from '../lib/clock.js'
import {BadParameterError} from '../lib/errors.js'
import type {Logger} from '../lib/log.js'
import type {EventCode, EventName} from './codes.js'
import {assertValidEvent, makeEvent, type AuditEvent, type EventFields} from './event.js'
import {redactSecrets} from './secrets-guard.js'

export type SearchOrder = 'asc' | 'desc'

export interface SearchQuery {
  /** Inclusive lower bound on the event's `time`. */
  from: Date
  /** Inclusive upper bound on the event's `time`. */
  to: Date
  /** Event names (the `event` field) to keep; absent or empty keeps all. */
  types?: string[]
  /** Only events whose `user` is this; absent or empty keeps all. */
  user?: string
  /** Only events whose session id `sid` is this; absent or empty keeps all. */
  sid?: string
  /** At most this many events (default DEFAULT_SEARCH_LIMIT, at most MAX_SEARCH_LIMIT). */
  limit?: number
  /** By time, oldest first ('asc', the default) or newest first; ties keep emission order. */
  order?: SearchOrder
  /** Continue after the page that returned this `nextKey` (same query otherwise). */
  startKey?: string
}

/** One page of a search: `nextKey` is set when the page is full (the next page may be empty). */
export interface SearchPage {
  events: AuditEvent[]
  nextKey?: string
}

/** Teleport's own defaults for one page of audit events. */
export const DEFAULT_SEARCH_LIMIT = 500
export const MAX_SEARCH_LIMIT = 10_000

/** Takes audit events. Resolves once the event is as safe as this emitter makes it (stored, sent, queued). */
export interface Emitter {
  emit(event: AuditEvent): Promise<void>
}

/** The audit log: an Emitter whose emit resolves once the event is stored (validated, secrets stripped). */
export interface AuditLog extends Emitter {
  search(query: SearchQuery): Promise<AuditEvent[]>
  /** Waits for emits in flight, then refuses further calls. */
  close(): Promise<void>
}

/** The short form for call sites: builds the event from (name, code, fields) and emits it without waiting. */
export type EmitNamed = (name: EventName, code: EventCode, fields: EventFields) => void

/**
 * The short form over an emitter: events stamped with the clock's time; a failed emit is logged
 * (a BufferedEmitter never fails: it keeps the event until it can be sent).
 */
export function emitNamed(emitter: Emitter, clock: Pick<Clock, 'now'>, log: Pick<Logger, 'warn'>): EmitNamed {
  return (name, code, fields) => {
    emitter.emit(makeEvent(name, code, fields, clock)).catch((err: Error) => log.warn(`audit: a ${name} event was lost: ${err.message}`))
  }
}

/**
 * Validates an event, strips secret-like fields and proves it serialises; returns the copy to store.
 * `onRedacted` hears the paths of stripped fields (a caller bug worth a warning, never the values).
 */
export function prepareForStorage(event: AuditEvent, onRedacted?: (paths: string[]) => void): AuditEvent {
  assertValidEvent(event)
  const {event: clean, redacted} = redactSecrets(event)
  if (redacted.length > 0) onRedacted?.(redacted)
  try {
    JSON.stringify(clean)
  } catch (error) {
    throw new BadParameterError(`audit event ${event.event} cannot be written as JSON: ${(error as Error).message}`, {cause: error})
  }
  return clean
}
