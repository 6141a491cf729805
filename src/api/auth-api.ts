import type {ApiClient} from './client.js'
import type {AuditEvent} from '../events/index.js'
import type {Lock, LockTarget} from '../services/locks.js'
import type {Role} from '../services/roles.js'
import type {User} from '../services/users.js'

// The auth API as typed calls. One client for tctl, nodes and proxies; the server side is
// src/daemon/auth/api-routes.ts. Times travel as ISO 8601 strings.

export interface PingResponse {
  clusterName: string
  serverVersion: string
  /** sha256:<hex> of the host CA: what joining hosts pass as --ca-pin. */
  caPins: string[]
  secondFactor: string
  /** The proxy's public web address, when one is configured or registered. */
  proxyPublicAddr?: string
}

export interface ClusterStatus {
  clusterName: string
  serverVersion: string
  caPins: string[]
  authorities: {type: 'user' | 'host'; fingerprints: string[]; rotationPhase: string}[]
  counts: {users: number; roles: number; nodes: number; tokens: number}
}

export interface CAKeys {
  clusterName: string
  user: string[]
  host: string[]
}

export interface UserTokenInfo {
  token: string
  kind: 'invite' | 'reset'
  user: string
  expires: string
  /** https://<proxy>/web/invite/<token> (or /web/reset/). */
  url: string
  proxyAddr: string
}

export interface JoinTokenInfo {
  token: string
  roles: string[]
  /** Absent: a static token, which never expires. */
  expires?: string
  static: boolean
  /** How many more hosts may join with it; absent for static tokens (no limit). */
  usesLeft?: number
}

export interface NodeInfo {
  name: string
  hostname: string
  addr: string
  labels: Record<string, string>
  cmdLabels: Record<string, {command: string[]; period?: string; result: string}>
  version: string
  tunnel?: boolean
  expires: string
}

export interface SignedUserCert {
  username: string
  certificate: string
  /** Host CA public keys, for known_hosts @cert-authority lines. */
  hostCAs: string[]
  clusterName: string
  /** The TTL granted, after role caps. */
  ttlMs: number
}

export interface RegisterRequest {
  token: string
  /** Absent: auth makes one (RegisterResponse.hostId). */
  hostId?: string
  nodeName: string
  role: 'node' | 'proxy'
  publicKey: string
  additionalPrincipals?: string[]
}

export interface RegisterResponse {
  /** The joiner's host id (the one it sent, or the one auth made). */
  hostId: string
  certificate: string
  hostCAs: string[]
  userCAs: string[]
  clusterName: string
}

export interface EventQuery {
  from: Date
  to: Date
  types?: string[]
  limit?: number
  order?: 'asc' | 'desc'
}

const enc = encodeURIComponent

export class AuthApi {
  constructor(readonly client: ApiClient) {}

  close(): Promise<void> {
    return this.client.close()
  }

  ping(): Promise<PingResponse> {
    return this.client.get('/v1/ping')
  }
  status(): Promise<ClusterStatus> {
    return this.client.get('/v1/status')
  }
  getCAKeys(): Promise<CAKeys> {
    return this.client.get('/v1/authorities')
  }

  // Users
  listUsers(): Promise<User[]> {
    return this.client.get('/v1/users')
  }
  getUser(name: string): Promise<User> {
    return this.client.get(`/v1/users/${enc(name)}`)
  }
  /** Creates the user and an invite link (1h). */
  createUser(user: {name: string; roles: string[]; traits: Record<string, string[]>}): Promise<{user: User; invite: UserTokenInfo}> {
    return this.client.post('/v1/users', user)
  }
  /** Create-or-replace from a resource (`tctl create`); `create` refuses an existing user. */
  upsertUser(user: {name: string; roles: string[]; traits: Record<string, string[]>}, options: {create?: boolean} = {}): Promise<User> {
    return this.client.put(`/v1/users/${enc(user.name)}${options.create ? '?create=true' : ''}`, user)
  }
  deleteUser(name: string): Promise<void> {
    return this.client.delete(`/v1/users/${enc(name)}`)
  }
  /** A reset link (8h): the user sets a new password and second factor. */
  resetUser(name: string): Promise<UserTokenInfo> {
    return this.client.post(`/v1/users/${enc(name)}/reset`)
  }

  /** Whether the user exists (nodes and proxies; admins). */
  userStatus(name: string): Promise<{name: string; exists: boolean}> {
    return this.client.get(`/v1/users/${enc(name)}/status`)
  }

  // Locks
  /** The locks in force. */
  listLocks(): Promise<Lock[]> {
    return this.client.get('/v1/locks')
  }
  getLock(name: string): Promise<Lock> {
    return this.client.get(`/v1/locks/${enc(name)}`)
  }
  /** `tctl lock`: a new lock with a random name. */
  createLock(request: {target: LockTarget; message?: string; ttlMs?: number}): Promise<Lock> {
    return this.client.post('/v1/locks', request)
  }
  /** Create-or-replace from a resource (`tctl create`); the server validates it. */
  upsertLock(lock: unknown): Promise<Lock> {
    const name = (lock as {metadata?: {name?: string}})?.metadata?.name ?? ''
    return this.client.put(`/v1/locks/${enc(name)}`, lock)
  }
  deleteLock(name: string): Promise<void> {
    return this.client.delete(`/v1/locks/${enc(name)}`)
  }

  // User tokens (the proxy's invite and reset pages)
  getUserToken(token: string): Promise<{kind: string; user: string; expires: string; totp: {secret: string; otpauthUrl: string}}> {
    return this.client.get(`/v1/usertokens/${enc(token)}`)
  }
  redeemUserToken(request: {token: string; password: string; otpCode?: string}): Promise<{user: string}> {
    return this.client.post(`/v1/usertokens/${enc(request.token)}/redeem`, request)
  }

  // Roles
  listRoles(): Promise<Role[]> {
    return this.client.get('/v1/roles')
  }
  getRole(name: string): Promise<Role> {
    return this.client.get(`/v1/roles/${enc(name)}`)
  }
  /** The role resource as parsed from YAML; the server validates it. */
  upsertRole(role: unknown, options: {create?: boolean} = {}): Promise<Role> {
    const name = (role as {metadata?: {name?: string}})?.metadata?.name ?? ''
    return this.client.put(`/v1/roles/${enc(name)}${options.create ? '?create=true' : ''}`, role)
  }
  deleteRole(name: string): Promise<void> {
    return this.client.delete(`/v1/roles/${enc(name)}`)
  }

  // Join tokens
  listTokens(): Promise<JoinTokenInfo[]> {
    return this.client.get('/v1/tokens')
  }
  addToken(request: {roles: string[]; ttlMs?: number; token?: string; uses?: number}): Promise<JoinTokenInfo> {
    return this.client.post('/v1/tokens', request)
  }
  deleteToken(token: string): Promise<void> {
    return this.client.delete(`/v1/tokens/${enc(token)}`)
  }

  // Nodes
  listNodes(): Promise<NodeInfo[]> {
    return this.client.get('/v1/nodes')
  }
  upsertNode(node: Omit<NodeInfo, 'expires'>): Promise<NodeInfo> {
    return this.client.put(`/v1/nodes/${enc(node.name)}`, node)
  }
  /** Forgets a host: its presence record and its host id (a new host may then join with that id). */
  deleteNode(name: string): Promise<void> {
    return this.client.delete(`/v1/nodes/${enc(name)}`)
  }
  keepAliveNode(name: string): Promise<NodeInfo> {
    return this.client.post(`/v1/nodes/${enc(name)}/keepalive`)
  }

  // Certificates
  /** `tctl auth sign --user`: admin only. */
  signUserCert(request: {username: string; publicKey: string; ttlMs?: number}): Promise<SignedUserCert> {
    return this.client.post('/v1/certs/user', request)
  }
  /** `tctl auth sign --host`: a host certificate for a plain OpenSSH server; admin only. */
  signHostCert(request: {hostId: string; principals: string[]; publicKey: string; role?: 'Node'; ttlMs?: number}): Promise<{certificate: string; hostCAs: string[]}> {
    return this.client.post('/v1/certs/host', request)
  }
  /** Password (+ OTP) login, on behalf of the proxy's web API. */
  authenticateUser(request: {username: string; password: string; otpCode?: string; publicKey: string; ttlMs?: number; clientAddr?: string}): Promise<SignedUserCert> {
    return this.client.post('/v1/certs/login', request)
  }
  /** Joining with a token (anonymous callers may do only this). */
  register(request: RegisterRequest): Promise<RegisterResponse> {
    return this.client.post('/v1/register', request)
  }

  // Audit log
  emitEvent(event: Record<string, unknown>): Promise<void> {
    return this.client.post('/v1/events', event)
  }
  searchEvents(query: EventQuery): Promise<AuditEvent[]> {
    const params = new URLSearchParams({from: query.from.toISOString(), to: query.to.toISOString()})
    if (query.types?.length) params.set('types', query.types.join(','))
    if (query.limit) params.set('limit', String(query.limit))
    if (query.order) params.set('order', query.order)
    return this.client.get(`/v1/events?${params}`)
  }
}
