import {identityName, type ApiIdentity, type HostRole} from '../../api/identity.js'
import {EventCode, EventName} from '../../events/index.js'
import {AccessDeniedError, NotFoundError} from '../../lib/errors.js'
import {checkResourceAccess, WEB_SESSION_GONE, type AccessDecision, type Role, type Traits, type User} from '../../services/index.js'
import type {WhereContext, WhereSession} from '../../services/models/rule-where.js'
import type {SessionTracker} from '../../services/session-trackers.js'
import {PARTICIPANT_MODES} from '../../services/models/session-tracker.js'
import {checkJoinSession} from '../../services/session-policy.js'
import type {AuthServer} from './auth-server.js'
import {hostMayReport} from './host-events.js'

// Who may do what on the auth API. Deny by default: hosts get the few actions their role
// needs, users what their roles' rules allow, anonymous callers only joining. Every refusal
// is audited before the caller hears 403.

export type Action =
  | {resource: 'user' | 'role' | 'token' | 'lock' | 'node' | 'proxy' | 'event' | 'cert_authority' | 'session'; verb: 'list' | 'read' | 'create' | 'update' | 'delete'}
  /** Reading one user or role by name: a user may read their own record and the roles it holds, whatever their rules say. */
  | {resource: 'user' | 'role'; verb: 'read'; name: string}
  /** Whether a user still exists: what nodes and proxies need to end a deleted user's sessions. */
  | {resource: 'user_status'; verb: 'read'}
  /** Joining with a token. */
  | {resource: 'register'; verb: 'create'}
  /** Password login and invite/reset redemption, done by the proxy for its web users. */
  | {resource: 'web_login' | 'user_token'; verb: 'create' | 'read'}
  /** Certificates signed on demand (tctl auth sign). */
  | {resource: 'cert'; verb: 'create'}
  /** A host's own certificate signed again (CA rotation): its key and names, the key that signs now. */
  | {resource: 'host_cert'; verb: 'renew'}
  /** Recording proxy mode: a host certificate for a node's name, on the proxy's key (the proxy's alone). */
  | {resource: 'node_host_cert'; verb: 'create'}
  /** A host keeping its own presence record: `subject` is the node name it writes. */
  | {resource: 'presence'; verb: 'update'; subject: string}
  /** A proxy keeping its own presence record (and removing it when it stops): `subject` is its host id. */
  | {resource: 'proxy_presence'; verb: 'update' | 'delete'; subject: string}
  /** Reporting an audit event: hosts may report only the codes their role emits. */
  | {resource: 'event'; verb: 'create'; code: string}
  /** Uploading a session's recording: only the node that ran session `sid` (its session.start says so). */
  | {resource: 'recording'; verb: 'upload'; sid: string}
  /** Writing a live session's tracker: only the node running session `sid` (no other host's tracker is there). */
  | {resource: 'session_tracker'; verb: 'update' | 'delete'; sid: string}
  /** Browsers' web sessions (sign-in, check, signing with the session's key, sign-out): the proxy's alone. */
  | {resource: 'web_session'; verb: 'create' | 'read' | 'sign' | 'delete'}
  /** Changing a password: only its user, knowing the current one. */
  | {resource: 'password'; verb: 'update'; name: string}

/** What nodes and proxies read to refuse locked and deleted users: locks in force, and whether a user exists. */
const readsAccessState = (action: Action) => (action.resource === 'lock' && (action.verb === 'list' || action.verb === 'read')) || action.resource === 'user_status'

const HOST_ACTIONS: Record<HostRole, (action: Action, identity: Extract<ApiIdentity, {kind: 'host'}>) => boolean> = {
  Admin: () => true,
  Auth: () => true,
  // A node writes only its own record (the key it joined with is checked in hostRefusal()).
  Node: (action, identity) =>
    (action.resource === 'presence' && action.subject === identity.hostId) ||
    action.resource === 'host_cert' ||
    (action.resource === 'event' && 'code' in action && hostMayReport('Node', action.code)) ||
    (action.resource === 'cert_authority' && action.verb === 'read') ||
    readsAccessState(action) ||
    action.resource === 'recording' ||
    // RBAC happens at the node: it reads the roles named in a user's certificate.
    (action.resource === 'role' && action.verb === 'read'),
  // No node presence: a proxy sharing a node's host id (one process) must not write the node's record.
  Proxy: (action, identity) =>
    (action.resource === 'node' && (action.verb === 'list' || action.verb === 'read')) ||
    // Its own presence, and the other proxies' (which it tells tunnel agents about).
    (action.resource === 'proxy_presence' && action.subject === identity.hostId) ||
    (action.resource === 'proxy' && action.verb === 'list') ||
    action.resource === 'host_cert' ||
    (action.resource === 'event' && 'code' in action && hostMayReport('Proxy', action.code)) ||
    (action.resource === 'cert_authority' && action.verb === 'read') ||
    (action.resource === 'role' && action.verb === 'read') ||
    readsAccessState(action) ||
    action.resource === 'web_login' ||
    action.resource === 'user_token' ||
    // Recording proxy mode: the proxy presents nodes' names (and uploads what it recorded, above).
    action.resource === 'node_host_cert' ||
    action.resource === 'register',
}

/** Why a caller is refused: `reason` goes to the audit log; `told` replaces the generic message (a lock's). */
interface Refusal {
  reason: string
  told?: string
}

export async function authorize(auth: AuthServer, identity: ApiIdentity, action: Action): Promise<void> {
  const found = await refusal(auth, identity, action)
  if (found) await refuse(auth, identity, action, found)
}

/**
 * A user caller's record, roles and traits as they are now (tsh ls filters nodes by them).
 * A deleted or locked user is refused and audited like any other refusal.
 */
export async function currentUserAccess(auth: AuthServer, identity: Extract<ApiIdentity, {kind: 'user'}>, action: Action): Promise<{roles: Role[]; traits: Traits; user: User}> {
  const current = await currentUser(auth, identity)
  if ('refusal' in current) return refuse(auth, identity, action, current.refusal)
  return {roles: await rolesOf(auth, current.user), traits: current.user.traits, user: current.user}
}

/** The user as a rule's `where` sees them (user.metadata.name, user.spec.roles). */
function whereUser(user: User): WhereContext['user'] {
  return {name: user.name, roles: user.roles}
}

/** Which sessions a caller may list or read: every one, or those `decide` allows (a rule's `where`). */
export type SessionAccess = {all: true} | {all: false; decide(session: WhereSession): AccessDecision}

/** A caller's rules on sessions before any refusal: all, or for a user, what the roles allow and why not more. */
type SessionRules = {all: true} | {all: false; roles: Role[]; user: User; reason: string; decide?: (session: WhereSession) => AccessDecision}

async function sessionRules(auth: AuthServer, identity: ApiIdentity, verb: 'list' | 'read'): Promise<SessionRules> {
  const action = {resource: 'session', verb} as const
  if (identity.kind !== 'user') {
    await authorize(auth, identity, action)
    return {all: true}
  }
  const {roles, user} = await currentUserAccess(auth, identity, action)
  const decision = checkResourceAccess(roles, 'session', verb, {user: whereUser(user)})
  if (decision.allowed) return {all: true}
  const decide = (session: WhereSession) => checkResourceAccess(roles, 'session', verb, {user: whereUser(user), session})
  return {all: false, roles, user, reason: decision.reason, ...(decision.conditional ? {decide} : {})}
}

/**
 * What `verb` on sessions the caller may do: hosts by their role (the Admin identity: all),
 * users by their current roles' rules, which may hold only for some sessions (the built-in
 * access role's: those they took part in). A caller allowed no session at all is refused, audited.
 */
export async function sessionAccess(auth: AuthServer, identity: ApiIdentity, verb: 'list' | 'read'): Promise<SessionAccess> {
  const rules = await sessionRules(auth, identity, verb)
  if (rules.all) return rules
  if (!rules.decide) return refuse(auth, identity, {resource: 'session', verb}, {reason: rules.reason})
  return {all: false, decide: rules.decide}
}

/** Which live sessions a caller sees: every one, or those `visible` allows. */
export type TrackerVisibility = {all: true} | {all: false; visible(tracker: SessionTracker): Promise<boolean>}

/**
 * Which session trackers the caller may see (list or read), the one place that decides it: the
 * same RBAC as the session's recording (the Admin identity and unconditional `session` rules see
 * all; a rule's `where`, such as the access role's, sees the sessions the user started or takes
 * part in), widened by join_sessions: a session the caller may join in some mode is one they may
 * see. A caller allowed none is refused, audited.
 */
export async function trackerVisibility(auth: AuthServer, identity: ApiIdentity, verb: 'list' | 'read'): Promise<TrackerVisibility> {
  const rules = await sessionRules(auth, identity, verb)
  if (rules.all) return rules
  const {roles, user, decide} = rules
  const mayJoin = roles.some((role) => (role.spec.allow.join_sessions ?? []).length > 0)
  if (!decide && !mayJoin) return refuse(auth, identity, {resource: 'session', verb}, {reason: rules.reason})
  const owners = new Map<string, Promise<Role[]>>()
  const ownerRoles = (name: string) => {
    let found = owners.get(name)
    if (!found) owners.set(name, (found = auth.users.get(name).then((owner) => rolesOf(auth, owner), () => [])))
    return found
  }
  return {
    all: false,
    visible: async (tracker) => {
      if (decide?.(trackerSession(tracker)).allowed) return true
      if (!mayJoin) return false
      const owner = {name: tracker.user, roles: await ownerRoles(tracker.user)}
      return PARTICIPANT_MODES.some((mode) => checkJoinSession({joiner: {name: user.name, roles}, owner, mode}).allowed)
    },
  }
}

/** A live session as a rule's `where` sees it: its starter first, then who is attached now. */
function trackerSession(tracker: SessionTracker): WhereSession {
  return {participants: [...new Set([tracker.user, ...tracker.participants.map((p) => p.user)])], user: tracker.user}
}

/**
 * The tracker of session `sid` when the caller may see it. One it may not see is answered as one
 * that does not exist (NotFoundError), so that existence is not told; the refusal is audited.
 */
export async function visibleTracker(auth: AuthServer, identity: ApiIdentity, sid: string): Promise<SessionTracker> {
  const visibility = await trackerVisibility(auth, identity, 'read')
  const tracker = await auth.sessionTrackers.get(sid)
  const notFound = new NotFoundError(`session ${sid} is not found (it ended, or you may not see it)`)
  if (visibility.all) {
    if (!tracker) throw notFound
    return tracker
  }
  if (tracker && (await visibility.visible(tracker))) return tracker
  await auditRefusal(auth, identity, {resource: 'session', verb: 'read'}, `session ${sid}: ${tracker ? 'no role allows reading this live session' : 'no such live session'}`)
  throw notFound
}

/**
 * Refuses (audited) a caller who may not read session `sid`: `access denied to read session <sid>`,
 * also when the audit log has no trace of it, so that a refused caller learns nothing about it.
 */
export async function authorizeSessionRead(auth: AuthServer, identity: ApiIdentity, sid: string): Promise<void> {
  const access = await sessionAccess(auth, identity, 'read')
  if (access.all) return
  const session = await auth.sessionParticipants(sid)
  const decision = session ? access.decide(session) : {allowed: false, reason: 'the audit log has no event of it'}
  if (decision.allowed) return
  await refuse(auth, identity, {resource: 'session', verb: 'read'}, {reason: `session ${sid}: ${decision.reason}`, told: `access denied to read session ${sid}`})
}

/** The user's roles as defined now; a role deleted meanwhile grants nothing. */
async function rolesOf(auth: AuthServer, user: User): Promise<Role[]> {
  const roles = await Promise.all(user.roles.map((name) => auth.roles.get(name).catch(() => undefined)))
  return roles.filter((r) => r !== undefined)
}

async function refuse(auth: AuthServer, identity: ApiIdentity, action: Action, found: Refusal): Promise<never> {
  await auditRefusal(auth, identity, action, found.reason)
  throw new AccessDeniedError(found.told ?? `access denied to perform action "${action.verb}" on "${action.resource}"`)
}

/** The audit event of every refusal (T3007W). */
async function auditRefusal(auth: AuthServer, identity: ApiIdentity, action: Action, reason: string): Promise<void> {
  await auth.emit(EventName.AuthAttempt, EventCode.AuthAttemptFailure, {
    user: identityName(identity),
    'addr.remote': identity.remoteAddr,
    success: false,
    action: `${action.verb} ${action.resource}`,
    error: reason,
  })
}

/**
 * The user named by a certificate, as auth has them now. The certificate's roles only widen the
 * lock check: a role locked after the certificate was issued still refuses it.
 */
async function currentUser(auth: AuthServer, identity: Extract<ApiIdentity, {kind: 'user'}>): Promise<{user: User} | {refusal: Refusal}> {
  let user: User
  try {
    user = await auth.users.get(identity.username)
  } catch (err) {
    if (err instanceof NotFoundError) return {refusal: {reason: `user ${JSON.stringify(identity.username)} no longer exists`}}
    throw err
  }
  try {
    await auth.assertNotLocked({user: user.name, roles: [...new Set([...user.roles, ...identity.roles])]})
  } catch (err) {
    if (err instanceof AccessDeniedError) return {refusal: {reason: err.message, told: err.message}}
    throw err
  }
  // A web session's certificate is good only while the session is: signed out is signed out,
  // even on a connection the proxy opened before.
  if (identity.cert.line && (await auth.webSessions.hasEnded(identity.cert.line))) return {refusal: {reason: 'the web session of this certificate has ended', told: WEB_SESSION_GONE}}
  return {user}
}

async function refusal(auth: AuthServer, identity: ApiIdentity, action: Action): Promise<Refusal | undefined> {
  if (identity.kind === 'anonymous') return action.resource === 'register' ? undefined : {reason: 'callers without a certificate may only join the cluster'}
  if (identity.kind === 'host') {
    const reason = await hostRefusal(auth, identity, action)
    if (reason === undefined) return undefined
    // An uploader or tracker writer is told why (its own session or not), so the node's log says what went wrong.
    return action.resource === 'recording' || action.resource === 'session_tracker' ? {reason, told: `access denied: ${reason}`} : {reason}
  }
  if (action.resource === 'register' || action.resource === 'web_login' || action.resource === 'user_token' || action.resource === 'cert' || action.resource === 'host_cert' || action.resource === 'node_host_cert' || action.resource === 'presence' || action.resource === 'proxy_presence' || action.resource === 'user_status' || action.resource === 'recording' || action.resource === 'session_tracker' || action.resource === 'web_session') {
    return {reason: `users may not ${action.verb} ${action.resource} through the auth API`}
  }
  // The user's record as it is now, not the roles frozen in the certificate: a demoted, deleted
  // or locked user loses access at once.
  const current = await currentUser(auth, identity)
  if ('refusal' in current) return current.refusal
  if (action.resource === 'cert_authority' && action.verb === 'read') return undefined // public keys
  if (action.resource === 'password') return action.name === current.user.name ? undefined : {reason: `user ${JSON.stringify(current.user.name)} may not change the password of ${JSON.stringify(action.name)}`}
  // Their own record and the roles it holds (what the web UI shows them); anything else by their rules.
  if ('name' in action && action.resource === 'user' && action.name === current.user.name) return undefined
  if ('name' in action && action.resource === 'role' && current.user.roles.includes(action.name)) return undefined
  const decision = checkResourceAccess(await rolesOf(auth, current.user), action.resource, action.verb, {user: whereUser(current.user)})
  return decision.allowed ? undefined : {reason: decision.reason}
}

async function hostRefusal(auth: AuthServer, identity: Extract<ApiIdentity, {kind: 'host'}>, action: Action): Promise<string | undefined> {
  // Web sessions are the proxy's (it serves the browsers); not even the Admin identity makes or uses them.
  if (action.resource === 'web_session') return identity.role === 'Proxy' ? undefined : `a ${identity.role} host may not ${action.verb} web sessions; only the proxy may`
  // A password is changed by its user (knowing the current one); administrators reset it (tctl users reset).
  if (action.resource === 'password') return `a ${identity.role} host may not change passwords; only the user may`
  // Recordings come from the node that ran the session (or the proxy that recorded it, in
  // recording proxy mode), never from an admin or auth identity.
  if (action.resource === 'recording') {
    if (identity.role !== 'Node' && identity.role !== 'Proxy') return `a ${identity.role} host may not upload session recordings; only the node or proxy that ran the session may`
    if (!(await auth.hostRanSession(identity.hostId, action.sid))) return `host ${identity.hostId} did not run session ${action.sid}: no session.start from it in the audit log`
    return undefined
  }
  // A session's tracker is written by the node running it (a recording proxy for a plain sshd), and by no other host.
  if (action.resource === 'session_tracker') {
    if (identity.role !== 'Node' && identity.role !== 'Proxy') return `a ${identity.role} host may not write session trackers; only the node (or recording proxy) running the session may`
    const tracker = await auth.sessionTrackers.get(action.sid)
    if (tracker && tracker.hostId !== identity.hostId) return `session ${action.sid} runs on another host, not on ${identity.hostId}`
    return undefined
  }
  if (!HOST_ACTIONS[identity.role](action, identity)) {
    return `a ${identity.role} host may not ${action.verb} ${action.resource}${'code' in action ? ` with code ${JSON.stringify(action.code)}` : ''}`
  }
  // A certificate auth issued for this id to another key (tctl auth sign --host) is not the host.
  if (((action.resource === 'presence' && identity.role === 'Node') || action.resource === 'proxy_presence' || action.resource === 'host_cert') && !(await auth.hostIds.isBoundTo(identity.hostId, identity.role, identity.cert.publicKey))) {
    return `the key of this certificate is not the one host ${identity.hostId} joined with`
  }
  return undefined
}
