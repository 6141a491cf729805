// The audit event: one flat JSON object, written one per line. Field names are Teleport's, so
// `jq 'select(.event=="user.login")'` works on our log as on theirs.
import {randomUUID} from 'node:crypto'
import {BadParameterError} from '../lib/errors.js'
import {systemClock, type Clock} from '../lib/clock.js'
import {EVENT_NAME_OF_CODE, type EventCode, type EventName} from './codes.js'

export interface AuditEvent {
  /** What happened: an EventName (strings outside the table are accepted from other emitters). */
  event: string
  /** The outcome-specific code, e.g. T1000I (login ok) vs T1000W (login failed). */
  code: string
  /** When, as ISO 8601 UTC with milliseconds: 2026-11-21T09:30:00.000Z. Also picks the day file. */
  time: string
  /** Random UUID identifying this one event. */
  uid: string
  /** Teleport user. */
  user?: string
  /** OS login on the node. */
  login?: string
  /** Session id. */
  sid?: string
  server_id?: string
  server_hostname?: string
  /** The client's address (host:port). */
  'addr.remote'?: string
  /** Index of the event within its session. */
  ei?: number
  /** Free fields: anything JSON-serialisable (secrets are stripped; see secrets-guard.ts). */
  [field: string]: unknown
}

/** The fields a caller may set; the four identity fields are always made by makeEvent. */
export type EventFields = Omit<Partial<AuditEvent>, 'event' | 'code' | 'time' | 'uid'> & {[field: string]: unknown}

/** The one accepted time format. Strict so that the day-file name derived from it is always safe. */
export const EVENT_TIME_PATTERN = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/

export function formatEventTime(at: Date): string {
  return at.toISOString()
}

/** A new event stamped with the clock's time and a fresh uid. */
export function makeEvent(name: EventName, code: EventCode, fields: EventFields = {}, clock: Pick<Clock, 'now'> = systemClock): AuditEvent {
  const expected = EVENT_NAME_OF_CODE[code]
  if (expected !== name) {
    throw new BadParameterError(`event code ${code} belongs to ${String(expected ?? 'no known event')}, not ${name}`)
  }
  // Identity fields go last so that a stray `time` or `uid` in fields cannot override them.
  return {...fields, event: name, code, time: formatEventTime(clock.now()), uid: randomUUID()}
}

/** Checks what every log needs to store and find an event; throws BadParameterError otherwise. */
export function assertValidEvent(event: AuditEvent): void {
  if (event === null || typeof event !== 'object' || Array.isArray(event)) {
    throw new BadParameterError('audit event must be a JSON object')
  }
  for (const field of ['event', 'code', 'uid'] as const) {
    if (typeof event[field] !== 'string' || event[field].length === 0) {
      throw new BadParameterError(`audit event is missing "${field}"`)
    }
  }
  // The round trip refuses dates V8 would roll over (2026-02-30 parses as 2026-03-02).
  const time = event.time
  if (typeof time !== 'string' || !EVENT_TIME_PATTERN.test(time) || !roundTrips(time)) {
    throw new BadParameterError(`audit event time ${JSON.stringify(event.time)} is not ISO 8601 UTC with milliseconds`)
  }
  if (event.ei !== undefined && !(Number.isInteger(event.ei) && event.ei >= 0)) {
    throw new BadParameterError(`audit event index "ei" must be a non-negative integer`)
  }
}

function roundTrips(time: string): boolean {
  const ms = Date.parse(time)
  return !Number.isNaN(ms) && new Date(ms).toISOString() === time
}

/** The event's time in epoch milliseconds (the event is assumed valid). */
export function eventTimeMs(event: AuditEvent): number {
  return Date.parse(event.time)
}
