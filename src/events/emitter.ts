// The audit log seam. The auth service owns the one real log (FileAuditLog in the data dir); nodes
// and proxies emit through the auth API; tests use MemoryAuditLog. Whatever the implementation,
// events go through prepareForStorage first, so validation and the secrets guard cannot be skipped.
import {BadParameterError} from '../lib/errors.js'
import {assertValidEvent, type AuditEvent} from './event.js'
import {redactSecrets} from './secrets-guard.js'

export type SearchOrder = 'asc' | 'desc'

export interface SearchQuery {
  /** Inclusive lower bound on the event's `time`. */
  from: Date
  /** Inclusive upper bound on the event's `time`. */
  to: Date
  /** Event names (the `event` field) to keep; absent or empty keeps all. */
  types?: string[]
  /** At most this many events (default DEFAULT_SEARCH_LIMIT, at most MAX_SEARCH_LIMIT). */
  limit?: number
  /** By time, oldest first ('asc', the default) or newest first; ties keep emission order. */
  order?: SearchOrder
}

/** Teleport's own defaults for one page of audit events. */
export const DEFAULT_SEARCH_LIMIT = 500
export const MAX_SEARCH_LIMIT = 10_000

export interface AuditLog {
  /** Stores one event (validated, secrets stripped). Resolves once it is stored. */
  emit(event: AuditEvent): Promise<void>
  search(query: SearchQuery): Promise<AuditEvent[]>
  /** Waits for emits in flight, then refuses further calls. */
  close(): Promise<void>
}

/** What a node or proxy needs: only the right to emit. */
export type Emitter = Pick<AuditLog, 'emit'>

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
