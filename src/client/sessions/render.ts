import type {SessionTracker} from '../../api/auth-api.js'
import {renderTable} from '../../lib/output.js'
import {formatUtc} from '../profile.js'
import {compareCodeUnits} from '../../lib/compare.js'

// What `tsh sessions ls` prints, as pure functions of the trackers auth returned.

/** Oldest first, then by id. */
function sorted(trackers: readonly SessionTracker[]): SessionTracker[] {
  return [...trackers].sort((a, b) => compareCodeUnits(a.created, b.created) || compareCodeUnits(a.sessionId, b.sessionId))
}

/** Who is in a session now, each once, in the order they joined. */
export function participantNames(tracker: Pick<SessionTracker, 'participants'>): string[] {
  return [...new Set(tracker.participants.map((p) => p.user))]
}

/** `ID | State | User | Login | Hostname | Participants | Created`. */
export function sessionsText(trackers: readonly SessionTracker[]): string {
  const rows = sorted(trackers).map((t) => [t.sessionId, t.state, t.user, t.login, t.hostname, participantNames(t).join(', '), formatUtc(new Date(t.created))])
  return renderTable(['ID', 'State', 'User', 'Login', 'Hostname', 'Participants', 'Created'], rows)
}

/** The `-f json|yaml` view: snake_case like Teleport's. */
export function sessionsData(trackers: readonly SessionTracker[]): object[] {
  return sorted(trackers).map((t) => ({
    session_id: t.sessionId,
    kind: t.kind,
    state: t.state,
    created: t.created,
    expires: t.expires,
    host_id: t.hostId,
    ...(t.serverId ? {server_id: t.serverId} : {}),
    hostname: t.hostname,
    address: t.address,
    cluster_name: t.clusterName,
    user: t.user,
    login: t.login,
    participants: t.participants.map((p) => ({user: p.user, mode: p.mode, last_active: p.lastActive})),
    ...(t.reason ? {reason: t.reason} : {}),
    ...(t.invited?.length ? {invited: t.invited} : {}),
  }))
}
