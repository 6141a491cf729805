import {identityName, type ApiIdentity, type HostRole} from '../../api/identity.js'
import {EventCode, EventName} from '../../events/index.js'
import {AccessDeniedError} from '../../lib/errors.js'
import {checkResourceAccess} from '../../services/index.js'
import type {AuthServer} from './auth-server.js'
import {hostMayReport} from './host-events.js'

// Who may do what on the auth API. Deny by default: hosts get the few actions their role
// needs, users what their roles' rules allow, anonymous callers only joining. Every refusal
// is audited before the caller hears 403.

export type Action =
  | {resource: 'user' | 'role' | 'token' | 'node' | 'event' | 'cert_authority' | 'session'; verb: 'list' | 'read' | 'create' | 'update' | 'delete'}
  /** Joining with a token. */
  | {resource: 'register'; verb: 'create'}
  /** Password login and invite/reset redemption, done by the proxy for its web users. */
  | {resource: 'web_login' | 'user_token'; verb: 'create' | 'read'}
  /** Certificates signed on demand (tctl auth sign). */
  | {resource: 'cert'; verb: 'create'}
  /** A host keeping its own presence record: `subject` is the node name it writes. */
  | {resource: 'presence'; verb: 'update'; subject: string}
  /** Reporting an audit event: hosts may report only the codes their role emits. */
  | {resource: 'event'; verb: 'create'; code: string}

const HOST_ACTIONS: Record<HostRole, (action: Action, identity: Extract<ApiIdentity, {kind: 'host'}>) => boolean> = {
  Admin: () => true,
  Auth: () => true,
  // A node writes only its own record (the key it joined with is checked in hostRefusal()).
  Node: (action, identity) =>
    (action.resource === 'presence' && action.subject === identity.hostId) ||
    (action.resource === 'event' && 'code' in action && hostMayReport('Node', action.code)) ||
    (action.resource === 'cert_authority' && action.verb === 'read') ||
    // RBAC happens at the node: it reads the roles named in a user's certificate.
    (action.resource === 'role' && action.verb === 'read'),
  // No presence: a proxy sharing a node's host id (one process) must not write the node's record.
  Proxy: (action) =>
    (action.resource === 'node' && (action.verb === 'list' || action.verb === 'read')) ||
    (action.resource === 'event' && 'code' in action && hostMayReport('Proxy', action.code)) ||
    (action.resource === 'cert_authority' && action.verb === 'read') ||
    (action.resource === 'role' && action.verb === 'read') ||
    action.resource === 'web_login' ||
    action.resource === 'user_token' ||
    action.resource === 'register',
}

export async function authorize(auth: AuthServer, identity: ApiIdentity, action: Action): Promise<void> {
  const reason = await refusal(auth, identity, action)
  if (!reason) return
  await auth.emit(EventName.AuthAttempt, EventCode.AuthAttemptFailure, {
    user: identityName(identity),
    'addr.remote': identity.remoteAddr,
    success: false,
    action: `${action.verb} ${action.resource}`,
    error: reason,
  })
  throw new AccessDeniedError(`access denied to perform action "${action.verb}" on "${action.resource}"`)
}

async function refusal(auth: AuthServer, identity: ApiIdentity, action: Action): Promise<string | undefined> {
  if (identity.kind === 'anonymous') return action.resource === 'register' ? undefined : 'callers without a certificate may only join the cluster'
  if (identity.kind === 'host') return hostRefusal(auth, identity, action)
  if (action.resource === 'cert_authority' && action.verb === 'read') return undefined // public keys
  if (action.resource === 'register' || action.resource === 'web_login' || action.resource === 'user_token' || action.resource === 'cert' || action.resource === 'presence') {
    return `users may not ${action.verb} ${action.resource} through the auth API`
  }
  // The roles named in the certificate, as they are now: a deleted or narrowed role takes effect at once.
  const roles = await Promise.all(identity.roles.map((name) => auth.roles.get(name).catch(() => undefined)))
  const decision = checkResourceAccess(roles.filter((r) => r !== undefined), action.resource, action.verb)
  return decision.allowed ? undefined : decision.reason
}

async function hostRefusal(auth: AuthServer, identity: Extract<ApiIdentity, {kind: 'host'}>, action: Action): Promise<string | undefined> {
  if (!HOST_ACTIONS[identity.role](action, identity)) {
    return `a ${identity.role} host may not ${action.verb} ${action.resource}${'code' in action ? ` with code ${JSON.stringify(action.code)}` : ''}`
  }
  // A certificate auth issued for this id to another key (tctl auth sign --host) is not the host.
  if (action.resource === 'presence' && identity.role === 'Node' && !(await auth.hostIds.isBoundTo(identity.hostId, identity.role, identity.cert.publicKey))) {
    return `the key of this certificate is not the one host ${identity.hostId} joined with`
  }
  return undefined
}
