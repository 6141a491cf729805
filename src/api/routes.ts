import type {AuditEvent, SearchPage} from '../events/index.js'
import type {Lock, LockTarget} from '../services/locks.js'
import type {Role} from '../services/roles.js'
import type {User} from '../services/users.js'
import type {SessionRecordingMode} from '../services/models/session-recording.js'
import type {SessionTracker, SessionTrackerUpdate} from '../services/models/session-tracker.js'
import {json, stream, types} from './route.js'

// The auth API's contract: every route with its method, path and the types that cross it. The
// server registers one handler per route (src/daemon/auth/api-routes.ts) and AuthApiClient
// calls them by the same declarations; a route missing on either side fails typecheck. Times
// travel as ISO 8601 strings.

export interface PingResponse {
  clusterName: string
  serverVersion: string
  /** sha256:<hex> of the host CA: what joining hosts pass as --ca-pin. */
  caPins: string[]
  secondFactor: string
  /** The proxy's public web address, when one is configured or registered. */
  proxyPublicAddr?: string
  /** The cluster's session recording mode (auth_service.session_recording): nodes follow it. */
  sessionRecording?: SessionRecordingMode
  /** auth_service.proxy_checks_host_keys: in recording proxy mode, the proxy refuses nodes without a host certificate. */
  proxyChecksHostKeys?: boolean
  /** auth_service.proxy_listener_mode: multiplex puts every protocol on the proxy's web port. */
  proxyListenerMode?: 'separate' | 'multiplex'
}

export interface ClusterStatus {
  clusterName: string
  serverVersion: string
  caPins: string[]
  authorities: {
    type: 'user' | 'host'
    fingerprints: string[]
    rotationPhase: string
    /** sha256 pins of every trusted key (both during a rotation), the signing key's first. */
    pins?: string[]
    rotation?: {state: 'standby' | 'in_progress'; mode: string; started?: string; gracePeriodMs?: number; lastRotated?: string; schedule?: {updateClients: string; updateServers: string; standby: string}}
  }[]
  counts: {users: number; roles: number; nodes: number; tokens: number}
}

export interface CAKeys {
  clusterName: string
  /** Every trusted key of each CA (both during a rotation's grace period). */
  user: string[]
  host: string[]
  /** The TLS user CA certificates (PEM). */
  tls?: string[]
  /** Each CA's rotation phase and the key that signs now: hosts renew their certificates by it. */
  rotation?: {user: CARotationView; host: CARotationView}
}

export interface CARotationView {
  phase: 'standby' | 'init' | 'update_clients' | 'update_servers' | 'rollback'
  signingKey: string
}

export interface RotateRequest {
  type?: 'user' | 'host'
  phase?: CARotationView['phase']
  manual?: boolean
  gracePeriodMs?: number
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
  /** `openssh`: a plain sshd registered with `tctl create` (no heartbeat, no expiry). */
  subKind?: 'openssh'
  /** Absent for registered OpenSSH nodes: they stay until `tctl rm`. */
  expires?: string
}

/** A proxy's presence record (`tctl get proxies`). */
export interface ProxyInfo {
  /** The proxy's host UUID. */
  name: string
  hostname: string
  /** host:port of its SSH port. */
  addr: string
  /** host:port of its web address, where tunnel agents dial it. */
  publicAddr: string
  version: string
  expires: string
}

/** What an admin says about a plain sshd when registering it. */
export interface OpenSSHNodeSpec {
  hostname: string
  /** host:port the proxy dials. */
  addr: string
  labels: Record<string, string>
}

export interface SignedUserCert {
  username: string
  certificate: string
  /** Host CA public keys, for known_hosts @cert-authority lines. */
  hostCAs: string[]
  clusterName: string
  /** The TTL granted, after role caps. */
  ttlMs: number
  /** The same identity as an X.509 client certificate on the same key (PEM), for the proxy's TLS relay. */
  tlsCertificate?: string
  /** The TLS user CA certificates (PEM) that sign it. */
  tlsCAs?: string[]
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

export interface UserSpec {
  name: string
  roles: string[]
  traits: Record<string, string[]>
}

export interface UserTokenDetails {
  kind: string
  user: string
  expires: string
  totp: {secret: string; otpauthUrl: string}
}

export interface LoginRequest {
  username: string
  password: string
  otpCode?: string
  publicKey: string
  ttlMs?: number
  clientAddr?: string
}

/** A session recording as auth stores it (RecordingStore's stat). */
export interface RecordingInfo {
  sid: string
  size: number
  complete: boolean
}

/** What an append answers: the recording's size after it (a JSON line in the stream's body). */
export interface AppendResult {
  bytes: number
}

/** A browser's sign-in, checked by auth for the proxy (rate-limited and locked like tsh login). */
export interface WebLoginRequest {
  username: string
  password: string
  otpCode?: string
  clientAddr?: string
}

/**
 * A web session as the proxy sees it. Auth made its key pair and signed `certificate` for it;
 * the private key never leaves auth, which signs with it for the proxy (signWithWebSession).
 */
export interface WebSession {
  /** The cookie's value (`__Host-session`): 32 random bytes, hex. A bearer credential: never logged. */
  id: string
  user: string
  /** The user's roles now (what the UI may offer; auth decides every call again). */
  roles: string[]
  /** The session's OpenSSH user certificate (public). */
  certificate: string
  created: string
  /** The certificate's expiry: the session ends then whatever its activity. */
  expires: string
  /** A session unused this long is gone (auth_service.web_idle_timeout). */
  idleTimeoutMs: number
}

/** What sign-in answers: the session and the bearer token the page sends on every call. */
export interface NewWebSession extends WebSession {
  bearerToken: string
}

/** A resource created only if absent (`tctl create` without -f). */
type CreateQuery = {query: {create?: 'true'}}

/** Keyed by the AuthApi method that calls each route. */
export const AUTH_ROUTES = {
  // Anyone connected may ask who the cluster is (joining hosts check the pin against it).
  ping: json('GET', '/v1/ping', types<{response: PingResponse}>()),
  status: json('GET', '/v1/status', types<{response: ClusterStatus}>()),
  getCAKeys: json('GET', '/v1/authorities', types<{response: CAKeys}>()),
  /** CAKeys as one JSON line now and one after every change of a CA: how hosts follow a rotation. */
  watchCAs: stream('GET', '/v1/authorities/watch'),
  rotateCA: json('POST', '/v1/authorities/rotate', types<{body: RotateRequest; response: {type: 'user' | 'host'; phase: string}[]}>()),
  /** A host's own certificate again, from the key that signs now, for the key and names it has (rotation's update_servers). */
  renewHostCert: json('POST', '/v1/certs/host/renew', types<{response: {certificate: string; hostCAs: string[]}}>()),

  listUsers: json('GET', '/v1/users', types<{response: User[]}>()),
  getUser: json('GET', '/v1/users/:name', types<{response: User}>()),
  createUser: json('POST', '/v1/users', types<{body: UserSpec; response: {user: User; invite: UserTokenInfo}}>()),
  upsertUser: json('PUT', '/v1/users/:name', types<CreateQuery & {body: UserSpec; response: User}>()),
  deleteUser: json('DELETE', '/v1/users/:name'),
  resetUser: json('POST', '/v1/users/:name/reset', types<{response: UserTokenInfo}>()),
  userStatus: json('GET', '/v1/users/:name/status', types<{response: {name: string; exists: boolean}}>()),

  getUserToken: json('GET', '/v1/usertokens/:token', types<{response: UserTokenDetails}>()),
  redeemUserToken: json('POST', '/v1/usertokens/:token/redeem', types<{body: {token: string; password: string; otpCode?: string}; response: {user: string}}>()),

  listRoles: json('GET', '/v1/roles', types<{response: Role[]}>()),
  getRole: json('GET', '/v1/roles/:name', types<{response: Role}>()),
  /** The body is the role resource as parsed from YAML; the server validates it. */
  upsertRole: json('PUT', '/v1/roles/:name', types<CreateQuery & {body: unknown; response: Role}>()),
  deleteRole: json('DELETE', '/v1/roles/:name'),

  listLocks: json('GET', '/v1/locks', types<{response: Lock[]}>()),
  getLock: json('GET', '/v1/locks/:name', types<{response: Lock}>()),
  createLock: json('POST', '/v1/locks', types<{body: {target: LockTarget; message?: string; ttlMs?: number}; response: Lock}>()),
  upsertLock: json('PUT', '/v1/locks/:name', types<{body: unknown; response: Lock}>()),
  deleteLock: json('DELETE', '/v1/locks/:name'),

  listTokens: json('GET', '/v1/tokens', types<{response: JoinTokenInfo[]}>()),
  addToken: json('POST', '/v1/tokens', types<{body: {roles: string[]; ttlMs?: number; token?: string; uses?: number}; response: JoinTokenInfo}>()),
  deleteToken: json('DELETE', '/v1/tokens/:token'),
  register: json('POST', '/v1/register', types<{body: RegisterRequest; response: RegisterResponse}>()),

  listNodes: json('GET', '/v1/nodes', types<{response: NodeInfo[]}>()),
  upsertNode: json('PUT', '/v1/nodes/:name', types<{body: Omit<NodeInfo, 'expires'>; response: NodeInfo}>()),
  deleteNode: json('DELETE', '/v1/nodes/:name'),
  /** `tctl create` of a node with sub_kind openssh: a plain sshd, registered by an admin. */
  registerOpenSSHNode: json('PUT', '/v1/openssh-nodes/:name', types<CreateQuery & {body: OpenSSHNodeSpec; response: NodeInfo}>()),
  keepAliveNode: json('POST', '/v1/nodes/:name/keepalive', types<{response: NodeInfo}>()),
  /** Recording proxy mode: a host certificate naming node `name`, for the key the proxy made, which the proxy presents to that node's users. */
  signNodeHostCertForProxy: json('POST', '/v1/nodes/:name/proxy-host-cert', types<{body: {publicKey: string}; response: {certificate: string}}>()),

  listProxies: json('GET', '/v1/proxies', types<{response: ProxyInfo[]}>()),
  upsertProxy: json('PUT', '/v1/proxies/:name', types<{body: Omit<ProxyInfo, 'expires'>; response: ProxyInfo}>()),
  keepAliveProxy: json('POST', '/v1/proxies/:name/keepalive', types<{response: ProxyInfo}>()),
  deleteProxy: json('DELETE', '/v1/proxies/:name'),

  signUserCert: json('POST', '/v1/certs/user', types<{body: {username: string; publicKey: string; ttlMs?: number}; response: SignedUserCert}>()),
  signHostCert: json('POST', '/v1/certs/host', types<{body: {hostId: string; principals: string[]; publicKey: string; role?: 'Node'; ttlMs?: number}; response: {certificate: string; hostCAs: string[]}}>()),
  authenticateUser: json('POST', '/v1/certs/login', types<{body: LoginRequest; response: SignedUserCert}>()),

  // Web sessions (the proxy, for browsers). Session ids and bearer tokens travel in bodies, never
  // in paths, so no access log can hold them.
  createWebSession: json('POST', '/v1/websessions', types<{body: WebLoginRequest; response: NewWebSession}>()),
  /** Checks id + bearer token (constant time), the user (exists, not locked) and marks the session active. */
  authenticateWebSession: json('POST', '/v1/websessions/authenticate', types<{body: {id: string; bearerToken: string}; response: WebSession}>()),
  /** Sign-out: the session and its key are gone at once. */
  deleteWebSession: json('POST', '/v1/websessions/delete', types<{body: {id: string}}>()),
  /**
   * The ssh-agent sign operation with the session's private key, for the proxy's SSH connections
   * as that user (to auth and to nodes). `data` base64; `flags` the agent protocol's
   * SSH_AGENT_RSA_SHA2_* bits (0 for Ed25519); `signature` base64 of the raw signature blob.
   */
  signWithWebSession: json('POST', '/v1/websessions/sign', types<{body: {id: string; data: string; flags?: number}; response: {signature: string}}>()),
  /** A user changes their own password: the current one and a TOTP code are required. */
  changePassword: json('PUT', '/v1/users/:name/password', types<{body: {oldPassword: string; newPassword: string; otpCode?: string}}>()),

  emitEvent: json('POST', '/v1/events', types<{body: Record<string, unknown>}>()),
  // Newest first with order=desc; a full page's nextKey, sent back as startKey, gives the next one.
  searchEvents: json(
    'GET',
    '/v1/events',
    types<{query: {from: string; to: string; types?: string; user?: string; sid?: string; limit?: string; order?: 'asc' | 'desc'; startKey?: string}; response: SearchPage}>(),
  ),

  // Session recordings: the node that ran a session uploads it (resuming at what auth has);
  // admins and roles that may read `session` download it.
  // Live sessions: the node running one keeps its tracker; users list those they may see and
  // look one up to join it.
  upsertSessionTracker: json('PUT', '/v1/sessions/:sid', types<{body: SessionTrackerUpdate; response: SessionTracker}>()),
  removeSessionTracker: json('DELETE', '/v1/sessions/:sid'),
  listSessionTrackers: json('GET', '/v1/sessions', types<{response: SessionTracker[]}>()),
  getSessionTracker: json('GET', '/v1/sessions/:sid', types<{response: SessionTracker}>()),

  // session.end events of the recordings the caller may see (RBAC on `session` list), newest first.
  listRecordings: json('GET', '/v1/recordings', types<{query: {from: string; to: string; limit?: string; startKey?: string}; response: SearchPage}>()),
  recordingUploaded: json('GET', '/v1/recordings/:sid/uploaded', types<{response: {bytes: number}}>()),
  /** Appends the body at `offset`, which must be the stored size; answers AppendResult as JSON in the stream. */
  appendRecording: stream('PUT', '/v1/recordings/:sid', types<{query: {offset: string}}>()),
  completeRecording: json('POST', '/v1/recordings/:sid/complete', types<{body: {size: number; sha256?: string}; response: RecordingInfo}>()),
  openRecording: stream('GET', '/v1/recordings/:sid', types<{query: {from?: string}}>()),
} as const

export type AuthRoutes = typeof AUTH_ROUTES
export type AuthRouteName = keyof AuthRoutes
