import type {UserAuthApi} from '../../api/auth-api.js'
import type {AuditEvent} from '../../events/index.js'
import {collectPages, type FoundEvents} from '../../events/paging.js'
import {renderTable} from '../../lib/output.js'

// `tsh recordings ls`: the session.end events auth lets the user list, newest first, as a table
// (ID, Type, Participants, Hostname, Timestamp) or as the events themselves (json, yaml).

/** Up to `limit` recordings ended between `from` and `to`, following auth's pages. */
export function findRecordings(api: Pick<UserAuthApi, 'listRecordings'>, range: {from: Date; to: Date}, limit: number): Promise<FoundEvents> {
  return collectPages((page) => api.listRecordings({...range, ...page}), limit)
}

/** "ssh" for a shell session, "ssh exec" for a command run without one. */
export function recordingType(end: AuditEvent): string {
  return end.interactive === false ? 'ssh exec' : 'ssh'
}

/** When the session started, to the second, in UTC (the event's own time if it lacks session_start). */
export function recordingTimestamp(end: AuditEvent): string {
  const start = typeof end.session_start === 'string' ? Date.parse(end.session_start) : Number.NaN
  const at = Number.isNaN(start) ? Date.parse(end.time) : start
  return Number.isNaN(at) ? '' : new Date(at).toISOString().replace(/\.\d{3}Z$/, 'Z')
}

export function recordingsTable(ends: readonly AuditEvent[]): string {
  const rows = ends.map((e) => [
    e.sid ?? '',
    recordingType(e),
    Array.isArray(e.participants) ? e.participants.map(String).join(', ') : '',
    e.server_hostname ?? '',
    recordingTimestamp(e),
  ])
  return renderTable(['ID', 'Type', 'Participants', 'Hostname', 'Timestamp'], rows)
}
