import type {AdminAuthApi, EventQuery} from '../api/auth-api.js'
import {DEFAULT_SEARCH_LIMIT, MAX_SEARCH_LIMIT, type AuditEvent} from '../events/index.js'
import {UsageError} from '../lib/errors.js'
import {renderTable} from '../lib/output.js'
import {escapeEncoded} from '../lib/safe-text.js'
import {splitList} from './flags.js'

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

const DATE_ONLY = /^\d{4}-\d{2}-\d{2}$/
/** RFC 3339 with a zone (Z or ±hh:mm), seconds and fraction optional. */
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/i

/**
 * A --from/--to value: RFC 3339, or a UTC day (YYYY-MM-DD: its start for --from, its last
 * millisecond for --to, so that `--from D --to D` is the whole day).
 */
export function parseEventTime(text: string, flag: 'from' | 'to'): Date {
  const dayOnly = DATE_ONLY.test(text)
  const ms = dayOnly ? Date.parse(`${text}T00:00:00.000Z`) : RFC3339.test(text) ? Date.parse(text) : Number.NaN
  // The round trip refuses days V8 would roll over (2026-02-30).
  if (Number.isNaN(ms) || (dayOnly && new Date(ms).toISOString().slice(0, 10) !== text)) {
    throw new UsageError(`--${flag}: ${JSON.stringify(text)} is not a time`, {hint: 'use RFC 3339 (2026-11-21T09:30:00Z) or a UTC day (2026-11-21)'})
  }
  return new Date(dayOnly && flag === 'to' ? ms + 86_400_000 - 1 : ms)
}

/** The search the flags ask for (without paging): newest first. */
export function eventsQuery(flags: EventsFlags, now: Date): EventQuery {
  const to = flags.to === undefined ? now : parseEventTime(flags.to, 'to')
  const from = flags.from === undefined ? new Date(to.getTime() - DEFAULT_EVENTS_WINDOW_MS) : parseEventTime(flags.from, 'from')
  if (from.getTime() > to.getTime()) throw new UsageError(`--from (${from.toISOString()}) is after --to (${to.toISOString()})`)
  if (!Number.isInteger(flags.limit) || flags.limit < 1 || flags.limit > MAX_SEARCH_LIMIT) {
    throw new UsageError(`--limit must be from 1 to ${MAX_SEARCH_LIMIT}`)
  }
  const types = splitList(flags.type?.join(','))
  return {from, to, order: 'desc', ...(types.length ? {types} : {}), ...(flags.user ? {user: flags.user} : {}), ...(flags.sid ? {sid: flags.sid} : {})}
}

export interface FoundEvents {
  events: AuditEvent[]
  /** More events match than --limit let through. */
  more: boolean
}

/** Up to `limit` events of `query`, page by page. */
export async function findEvents(api: Pick<AdminAuthApi, 'searchEvents'>, query: EventQuery, limit: number): Promise<FoundEvents> {
  const events: AuditEvent[] = []
  let startKey: string | undefined
  do {
    const page = await api.searchEvents({...query, limit: Math.min(limit - events.length, DEFAULT_SEARCH_LIMIT), ...(startKey ? {startKey} : {})})
    events.push(...page.events)
    startKey = page.nextKey
  } while (startKey !== undefined && events.length < limit)
  // A full last page may be followed by an empty one: ask, so that "more" is never a false alarm.
  const more = startKey !== undefined && (await api.searchEvents({...query, limit: 1, startKey})).events.length > 0
  return {events, more}
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
