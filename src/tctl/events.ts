import type {AdminAuthApi, EventQuery} from '../api/auth-api.js'
import {MAX_SEARCH_LIMIT, type AuditEvent} from '../events/index.js'
import {collectPages, type FoundEvents} from '../events/paging.js'
import {UsageError} from '../lib/errors.js'
import {parseTimeFlag} from '../lib/time-flag.js'
import {renderTable} from '../lib/output.js'
import {escapeEncoded} from '../lib/safe-text.js'
import {splitList} from './flags.js'

/** --from/--to values (moved down to lib, shared with tsh recordings ls). */
export {parseTimeFlag as parseEventTime} from '../lib/time-flag.js'

// `tctl events ls`: the admin's search of the audit log. Defaults are `tsh recordings ls`'s: the
// last 24 hours, newest first, at most 50 events. Pages of the auth API are followed up to --limit.

export const DEFAULT_EVENTS_WINDOW_MS = 24 * 3600_000
export const DEFAULT_EVENTS_LIMIT = 50

export interface EventsFlags {
  from?: string
  to?: string
  type?: string[]
  user?: string
  sid?: string
  limit: number
}

/** The search the flags ask for (without paging): newest first. */
export function eventsQuery(flags: EventsFlags, now: Date): EventQuery {
  const to = flags.to === undefined ? now : parseTimeFlag(flags.to, 'to')
  const from = flags.from === undefined ? new Date(to.getTime() - DEFAULT_EVENTS_WINDOW_MS) : parseTimeFlag(flags.from, 'from')
  if (from.getTime() > to.getTime()) throw new UsageError(`--from (${from.toISOString()}) is after --to (${to.toISOString()})`)
  if (!Number.isInteger(flags.limit) || flags.limit < 1 || flags.limit > MAX_SEARCH_LIMIT) {
    throw new UsageError(`--limit must be from 1 to ${MAX_SEARCH_LIMIT}`)
  }
  const types = splitList(flags.type?.join(','))
  return {from, to, order: 'desc', ...(types.length ? {types} : {}), ...(flags.user ? {user: flags.user} : {}), ...(flags.sid ? {sid: flags.sid} : {})}
}

/** Up to `limit` events of `query`, page by page. */
export function findEvents(api: Pick<AdminAuthApi, 'searchEvents'>, query: EventQuery, limit: number): Promise<FoundEvents> {
  return collectPages((page) => api.searchEvents({...query, ...page}), limit)
}

/** `-f json`: one event per line, as the log file holds them (for jq and grep); escaped for terminals. */
export function eventsJsonLines(events: AuditEvent[]): string {
  return events.map((e) => `${escapeEncoded(JSON.stringify(e))}\n`).join('')
}

/** The fields a summary shows, in order, when the event has them. */
const SUMMARY_FIELDS = ['login', 'name', 'server_hostname', 'sid', 'command', 'action', 'error', 'addr.remote'] as const

export function eventSummary(event: AuditEvent): string {
  return SUMMARY_FIELDS.filter((f) => event[f] !== undefined && event[f] !== '')
    .map((f) => `${f}=${typeof event[f] === 'string' ? (event[f] as string) : JSON.stringify(event[f])}`)
    .join(' ')
}

/** Whether an event reports a failure (codes ending W or E: T1000W login failed, T3002E exec failed). */
export function isFailureCode(code: string): boolean {
  return /[WE]$/.test(code)
}

/** `-f text`: Time, Type, Code, User, Summary; failures in red where colour is on. */
export function eventsTable(events: AuditEvent[], red: (line: string) => string = (line) => line): string {
  const table = renderTable(['Time', 'Type', 'Code', 'User', 'Summary'], events.map((e) => [e.time, e.event, e.code, e.user ?? '', eventSummary(e)]))
  const lines = table.split('\n')
  return lines.map((line, i) => (i >= 2 && events[i - 2] !== undefined && isFailureCode(events[i - 2]!.code) ? red(line) : line)).join('\n')
}
