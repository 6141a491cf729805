// Who took part in a session, as the audit log tells it: what a role rule's session condition
// (`contains(session.participants, user.metadata.name)`) is evaluated against.
import {EventName} from '../events/codes.js'
import type {AuditEvent} from '../events/event.js'
import type {WhereSession} from './models/rule-where.js'

/**
 * A session's parties from its events: its session.end's participants and user when the log has
 * it, else the users of its session.start and session.join (a session still running, or whose
 * end was lost). Undefined when there is neither.
 */
export function sessionParties(events: readonly AuditEvent[]): WhereSession | undefined {
  const end = events.find((e) => e.event === EventName.SessionEnd)
  if (end) {
    const participants = Array.isArray(end.participants) ? end.participants.filter((p): p is string => typeof p === 'string') : []
    return {participants, user: end.user ?? participants[0] ?? ''}
  }
  const started = events.filter((e) => e.event === EventName.SessionStart || e.event === EventName.SessionJoin)
  if (started.length === 0) return undefined
  const participants = [...new Set(started.flatMap((e) => (typeof e.user === 'string' ? [e.user] : [])))]
  return {participants, user: started.find((e) => e.event === EventName.SessionStart)?.user ?? ''}
}
