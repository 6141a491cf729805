// The events of a session recording, named and shaped as Teleport's (REFERENCE.md "Recordings in
// detail"). Each is an AuditEvent; `ei` is its index in the session, +1 per event. A print's
// output bytes are not part of its JSON form: the recording stores them beside it.
import {BadParameterError} from '../../lib/errors.js'
import {EVENT_TIME_PATTERN, type AuditEvent} from '../event.js'

export interface SessionStartEvent extends AuditEvent {
  event: 'session.start'
  /** Terminal size as "W:H" (columns:rows), e.g. "80:25". */
  size: string
}

/**
 * Output, as Teleport writes it in recordings: no code, uid nor session fields (prints are most of
 * a recording and never go to the audit log).
 */
export interface PrintEvent {
  event: 'print'
  ei: number
  /** ISO 8601 UTC with milliseconds. */
  time: string
  /** Index among the session's prints, +1 per print. */
  ci: number
  /** Length of the output in bytes. */
  bytes: number
  /** Milliseconds since the session's first print (not since session.start). */
  ms: number
  /** Bytes of output before this print. */
  offset: number
}

export interface ResizeEvent extends AuditEvent {
  event: 'resize'
  size: string
}

export interface SessionJoinEvent extends AuditEvent {
  event: 'session.join'
}

export interface SessionLeaveEvent extends AuditEvent {
  event: 'session.leave'
}

export interface SessionEndEvent extends AuditEvent {
  event: 'session.end'
  /** Teleport users who took part, the starter first. */
  participants: string[]
  /** When the session started and stopped, ISO 8601 UTC. */
  session_start: string
  session_stop: string
  /** False for an exec session (a command without a shell). */
  interactive: boolean
}

export type RecordingEvent = SessionStartEvent | PrintEvent | ResizeEvent | SessionJoinEvent | SessionLeaveEvent | SessionEndEvent

/** One event as a reader hands it out. */
export interface RecordedEvent {
  event: RecordingEvent
  /** The output of a print; undefined for the other events. */
  data?: Buffer
  /** Milliseconds from the recording's start (its file header) to the event's time. */
  elapsedMs: number
}

export const PRINT_EVENT = 'print'

/** Checks a print's own fields; throws BadParameterError otherwise. */
export function assertValidPrint(event: PrintEvent): void {
  for (const field of ['ei', 'ci', 'bytes', 'ms', 'offset'] as const) {
    if (!Number.isInteger(event[field]) || event[field] < 0) throw new BadParameterError(`print field "${field}" must be a non-negative integer`)
  }
  if (typeof event.time !== 'string' || !EVENT_TIME_PATTERN.test(event.time) || Number.isNaN(Date.parse(event.time))) {
    throw new BadParameterError('print time is not ISO 8601 UTC with milliseconds')
  }
}

/** Teleport splits a larger print into several. */
export const MAX_PRINT_BYTES = 64 * 1024

export interface TerminalSize {
  cols: number
  rows: number
}

/** "W:H" as numbers; undefined when it is not that shape. */
export function parseTerminalSize(size: unknown): TerminalSize | undefined {
  if (typeof size !== 'string') return undefined
  const match = /^(\d{1,5}):(\d{1,5})$/.exec(size)
  if (!match) return undefined
  return {cols: Number(match[1]), rows: Number(match[2])}
}
