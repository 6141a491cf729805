// Live-session policies in roles (Teleport's join_sessions and require_session_join): may a user
// join another's session, and in which mode; and may a session run with the participants it has.
import {matchLabelValue} from './rbac.js'
import type {OnSessionLeave, Role, SessionRequirePolicy} from './models/role.js'
import {compiledWhere, whereHolds} from './models/rule-where.js'
import type {ParticipantMode} from './models/session-tracker.js'

export type SessionKind = 'ssh'

/** A user with the definitions of their roles as they are now. */
export interface SessionUser {
  name: string
  roles: readonly Role[]
}

export type JoinDecision = {allowed: true} | {allowed: false; reason: string}

/**
 * May `joiner` join `owner`'s session in `mode`? A join_sessions policy of one of the joiner's
 * roles must name one of the OWNER's roles (globs allowed), the kind and the mode. Without one,
 * a user may join only their own sessions, as a peer.
 */
export function checkJoinSession(input: {joiner: SessionUser; owner: SessionUser; mode: ParticipantMode; kind?: SessionKind}): JoinDecision {
  const {joiner, owner, mode} = input
  const kind = input.kind ?? 'ssh'
  if (joiner.name === owner.name && mode === 'peer') return {allowed: true}
  const ownerRoles = owner.roles.map((r) => r.metadata.name)
  for (const role of joiner.roles) {
    for (const policy of role.spec.allow.join_sessions ?? []) {
      if (!kindMatches(policy.kinds, kind) || !policy.modes.includes(mode)) continue
      if (policy.roles.some((pattern) => ownerRoles.some((name) => matchLabelValue(pattern, name)))) return {allowed: true}
    }
  }
  const whose = joiner.name === owner.name ? 'your own sessions' : `sessions of ${JSON.stringify(owner.name)}`
  return {allowed: false, reason: `access denied: your roles do not allow joining ${whose} as ${mode}`}
}

/** Someone in the session, as the require_session_join filters see them. */
export interface SessionParticipant {
  user: string
  /** Role names. */
  roles: readonly string[]
  mode: ParticipantMode
}

export interface ModerationState {
  /** Whether the owner's roles require anyone at all. */
  moderated: boolean
  /** Whether the participants present satisfy every role's requirement. */
  satisfied: boolean
  /** What to do when it stops being satisfied. */
  onLeave: OnSessionLeave
}

/**
 * Whether a session of a user with `ownerRoles` may run with `participants` (the owner is never
 * counted). Each owner role with require_session_join policies for the kind is satisfied when one
 * of its policies is (OR); the session when every such role is (AND). A policy is satisfied by
 * `count` participants in one of its modes whose user matches its filter.
 */
export function moderationState(ownerName: string, ownerRoles: readonly Role[], participants: readonly SessionParticipant[], kind: SessionKind = 'ssh'): ModerationState {
  const others = participants.filter((p) => p.user !== ownerName)
  let moderated = false
  let satisfied = true
  let terminates = false
  for (const role of ownerRoles) {
    const policies = (role.spec.allow.require_session_join ?? []).filter((p) => kindMatches(p.kinds, kind))
    if (policies.length === 0) continue
    moderated = true
    terminates ||= policies.some((p) => p.on_leave === 'terminate')
    if (!policies.some((p) => policySatisfied(p, others))) satisfied = false
  }
  // One policy saying terminate is enough: pausing is the milder choice, taken only when all agree.
  return {moderated, satisfied, onLeave: terminates ? 'terminate' : 'pause'}
}

function policySatisfied(policy: SessionRequirePolicy, participants: readonly SessionParticipant[]): boolean {
  const filter = compiledWhere(policy.filter)
  const matching = participants.filter((p) => policy.modes.includes(p.mode) && whereHolds(filter, {user: {name: p.user, roles: p.roles}}) === true)
  return new Set(matching.map((p) => p.user)).size >= policy.count
}

function kindMatches(kinds: readonly string[], kind: SessionKind): boolean {
  return kinds.includes('*') || kinds.includes(kind)
}
