// A live session as auth tracks it (Teleport's session tracker): written by the node that runs
// the session, kept alive while it runs, gone when it ends or when its node stops renewing it.
// What `tsh sessions ls` lists and what `tsh join` looks up to find the session's node.

export const PARTICIPANT_MODES = ['observer', 'peer', 'moderator'] as const
export type ParticipantMode = (typeof PARTICIPANT_MODES)[number]

/**
 * The env of the shell request `tsh join` sends: the node joins that session (in that mode)
 * instead of starting a shell.
 */
export const JOIN_SESSION_ENV = 'TELEPORT_SESSION'
export const PARTICIPANT_MODE_ENV = 'TELEPORT_PARTICIPANT_MODE'

export const SESSION_STATES = ['PENDING', 'RUNNING', 'TERMINATED'] as const
export type SessionState = (typeof SESSION_STATES)[number]

export interface SessionParticipant {
  user: string
  mode: ParticipantMode
  /** When the party was last seen active (ISO 8601). */
  lastActive: string
}

export interface SessionTracker {
  sessionId: string
  kind: 'ssh'
  state: SessionState
  /** ISO 8601 times. */
  created: string
  expires: string
  /** The node running the session: its host id (server_id), hostname and address. */
  hostId: string
  hostname: string
  address: string
  clusterName: string
  /** The Teleport user who started it and the OS login it runs as. */
  user: string
  login: string
  participants: SessionParticipant[]
  /** Why the session is PENDING or TERMINATED, when there is a reason to tell. */
  reason?: string
  invited?: string[]
}

/** What a node writes; auth fills in hostId (the caller) and expires (from ttlMs). */
export type SessionTrackerUpdate = Omit<SessionTracker, 'hostId' | 'expires' | 'sessionId'> & {ttlMs?: number}
