// A live session as auth tracks it (Teleport's session tracker): written by the node that runs
// the session, kept alive while it runs, gone when it ends or when its node stops renewing it.
// What `tsh sessions ls` lists and what `tsh join` looks up to find the session's node.
import {BadParameterError} from '../../lib/errors.js'
import {hasControlChars} from '../../lib/safe-text.js'
import {checkNodeHostname} from './node.js'
import {assertValidName, isPlainObject} from './resource.js'

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
  /** The host that writes the tracker: the node running the session (or the recording proxy holding it). */
  hostId: string
  /**
   * Recording proxy mode: the node the session runs on (its name, the session events' server_id)
   * when the proxy holds the session and writes its tracker. Absent: the node is `hostId`.
   */
  serverId?: string
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

/** The node a session runs on: what `tsh join` and the web terminal dial (the proxy holding it stands in for it). */
export function trackerNodeId(tracker: Pick<SessionTracker, 'hostId' | 'serverId'>): string {
  return tracker.serverId ?? tracker.hostId
}

/** What a node writes; auth fills in hostId (the caller) and expires (from ttlMs). */
export type SessionTrackerUpdate = Omit<SessionTracker, 'hostId' | 'expires' | 'sessionId'> & {ttlMs?: number}

// ---- validation --------------------------------------------------------------------------------
// What a node writes reaches every user's `tsh sessions ls` and auth's storage: each field is
// checked for its shape and bounded, and only the known fields are kept.

export const MAX_PARTICIPANTS = 64
export const MAX_INVITED = 64
export const MAX_REASON = 1024
export const MAX_LOGIN = 255
export const MAX_ADDRESS = 1024
/** Trackers are short-lived: a node renews well inside this, so a crashed node's vanish within a minute. */
export const MAX_TRACKER_TTL_MS = 60_000
export const MIN_TRACKER_TTL_MS = 1_000

/** A session tracker update as a node sent it: BadParameterError names the first bad field. */
export function validateSessionTrackerUpdate(raw: unknown): SessionTrackerUpdate {
  if (!isPlainObject(raw)) throw new BadParameterError('a session tracker must be an object')
  const fail = (field: string, what: string): never => {
    throw new BadParameterError(`session tracker: ${field} ${what}`)
  }
  if (raw.kind !== 'ssh') fail('kind', 'must be "ssh"')
  const state = raw.state
  if (typeof state !== 'string' || !(SESSION_STATES as readonly string[]).includes(state)) fail('state', `must be one of ${SESSION_STATES.join(', ')}`)
  const created = instant(raw.created, 'created', fail)
  if (typeof raw.hostname !== 'string') return fail('hostname', 'must be a string')
  try {
    checkNodeHostname(raw.hostname)
  } catch (err) {
    fail('hostname', `is invalid: ${(err as Error).message}`)
  }
  const address = printable(raw.address, 'address', MAX_ADDRESS, fail)
  const clusterName = printable(raw.clusterName, 'clusterName', 255, fail)
  const user = userName(raw.user, 'user', fail)
  const login = loginName(raw.login, fail)
  if (!Array.isArray(raw.participants)) return fail('participants', 'must be a list')
  if (raw.participants.length > MAX_PARTICIPANTS) fail('participants', `must hold at most ${MAX_PARTICIPANTS} entries`)
  const participants = raw.participants.map((p: unknown, i): SessionParticipant => {
    const at = `participants[${i}]`
    if (!isPlainObject(p)) return fail(at, 'must be an object')
    if (typeof p.mode !== 'string' || !(PARTICIPANT_MODES as readonly string[]).includes(p.mode)) fail(`${at}.mode`, `must be one of ${PARTICIPANT_MODES.join(', ')}`)
    return {user: userName(p.user, `${at}.user`, fail), mode: p.mode as ParticipantMode, lastActive: instant(p.lastActive, `${at}.lastActive`, fail)}
  })
  const update: SessionTrackerUpdate = {kind: 'ssh', state: state as SessionState, created, hostname: raw.hostname, address, clusterName, user, login, participants}
  if (raw.serverId !== undefined) {
    try {
      assertValidName('node', raw.serverId)
    } catch (err) {
      fail('serverId', `is not a node name: ${(err as Error).message}`)
    }
    update.serverId = raw.serverId as string
  }
  if (raw.reason !== undefined) update.reason = printable(raw.reason, 'reason', MAX_REASON, fail)
  if (raw.invited !== undefined) {
    if (!Array.isArray(raw.invited) || raw.invited.length > MAX_INVITED) fail('invited', `must be a list of at most ${MAX_INVITED} user names`)
    update.invited = (raw.invited as unknown[]).map((name, i) => userName(name, `invited[${i}]`, fail))
  }
  if (raw.ttlMs !== undefined) {
    const ttl = raw.ttlMs
    if (typeof ttl !== 'number' || !Number.isInteger(ttl) || ttl < MIN_TRACKER_TTL_MS || ttl > MAX_TRACKER_TTL_MS) fail('ttlMs', `must be whole milliseconds from ${MIN_TRACKER_TTL_MS} to ${MAX_TRACKER_TTL_MS}`)
    update.ttlMs = ttl as number
  }
  return update
}

type Fail = (field: string, what: string) => never

function instant(value: unknown, field: string, fail: Fail): string {
  const ms = typeof value === 'string' && value.length <= 64 ? Date.parse(value) : NaN
  if (Number.isNaN(ms)) fail(field, 'must be an ISO 8601 time')
  return new Date(ms).toISOString()
}

function printable(value: unknown, field: string, max: number, fail: Fail): string {
  if (typeof value !== 'string' || value.length > max || hasControlChars(value)) fail(field, `must be printable text of at most ${max} characters`)
  return value as string
}

function userName(value: unknown, field: string, fail: Fail): string {
  try {
    assertValidName('user', value)
  } catch (err) {
    fail(field, `is not a user name: ${(err as Error).message}`)
  }
  return value as string
}

/** An OS login as roles allow them: no spaces or control characters. */
function loginName(value: unknown, fail: Fail): string {
  // eslint-disable-next-line no-control-regex
  if (typeof value !== 'string' || value === '' || value.length > MAX_LOGIN || /[\s\u0000-\u001f\u007f-\u009f]/u.test(value)) fail('login', `must be a login of at most ${MAX_LOGIN} characters without spaces or control characters`)
  return value as string
}
