import type {SessionParticipant} from '../../../services/models/session-tracker.js'
import type {SessionTap} from './tap.js'
import type {SessionTrackerWriter} from './tracker-writer.js'

// A session's tracker on auth, from its tap: written when the session starts (RUNNING, or PENDING
// while a moderated one waits for its moderators), rewritten as parties join and leave and as its
// state changes, removed when it ends. The writer renews it meanwhile and never makes the
// session wait.

/** What every tracker of this node says about the node. */
export interface TrackedNode {
  hostname: string
  /** The node's advertised address (known once it listens). */
  address(): string
  clusterName: string
  /** Recording proxy mode: the node the proxy stands in for (the tracker's writer is the proxy). */
  serverId?: string
}

/** The session as its shell knows it: id, the cluster user who started it and the OS login. */
export interface TrackedSession {
  sid: string
  user: string
  login: string
}

export function sessionTrackerTap(writer: SessionTrackerWriter, node: TrackedNode, session: TrackedSession): SessionTap {
  const participants = new Map<string, SessionParticipant>()
  let created: Date | undefined
  // A moderated session waits (PENDING) until enough moderators joined; it says so as it changes.
  let state: 'PENDING' | 'RUNNING' = 'RUNNING'
  let reason: string | undefined
  const write = () => {
    if (!created) return // parties attached before the start are written with it
    writer.write(session.sid, {
      kind: 'ssh',
      state,
      ...(reason ? {reason} : {}),
      created: created.toISOString(),
      hostname: node.hostname,
      address: node.address(),
      clusterName: node.clusterName,
      ...(node.serverId ? {serverId: node.serverId} : {}),
      user: session.user,
      login: session.login,
      participants: [...participants.values()],
    })
  }
  return {
    onPartyJoin(party, at) {
      participants.set(party.id, {user: party.user, mode: party.mode, lastActive: at.toISOString()})
      write()
    },
    onPartyLeave(party) {
      participants.delete(party.id)
      write()
    },
    onStart(_start, at) {
      created = at
      write()
    },
    onStateChange(next, _at, why) {
      if (next === state && why === reason) return
      state = next
      reason = why
      write()
    },
    onEnd() {
      writer.remove(session.sid)
    },
  }
}
