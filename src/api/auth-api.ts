import type {SearchPage, SearchQuery} from '../events/index.js'
import type {Lock, LockTarget} from '../services/locks.js'
import type {Role} from '../services/roles.js'
import type {User} from '../services/users.js'
import type {SessionTracker, SessionTrackerUpdate} from '../services/models/session-tracker.js'
import type {ResponseOf} from './route.js'
import type {Readable} from 'node:stream'
import type {AppendResult, AuthRouteName, AuthRoutes, CAKeys, RotateRequest, ClusterStatus, JoinTokenInfo, LoginRequest, NodeInfo, OpenSSHNodeSpec, PingResponse, ProxyInfo, RecordingInfo, RegisterRequest, RegisterResponse, SignedUserCert, UserSpec, UserTokenDetails, UserTokenInfo, WebLoginRequest, WebSession, NewWebSession} from './routes.js'

export type {SessionRecordingMode} from '../services/models/session-recording.js'
export type {SessionTracker, SessionTrackerUpdate} from '../services/models/session-tracker.js'
export type {AppendResult, CAKeys, CARotationView, RotateRequest, ClusterStatus, JoinTokenInfo, NodeInfo, OpenSSHNodeSpec, PingResponse, ProxyInfo, RecordingInfo, RegisterRequest, RegisterResponse, SignedUserCert, UserTokenInfo, WebLoginRequest, WebSession, NewWebSession} from './routes.js'

// The auth API as typed calls: one method per route of AUTH_ROUTES (routes.ts). AuthApiClient
// makes them over the wire; each role sees the narrow view below that it needs.

/** A search of the audit log, as the log itself takes it. */
export type EventQuery = SearchQuery

/** A search for recordings: a time range over their session.end, a page size and where to go on. */
export type RecordingQuery = Pick<SearchQuery, 'from' | 'to' | 'limit' | 'startKey'>

export interface AuthApi {
  close(): Promise<void>

  ping(): Promise<PingResponse>
  status(): Promise<ClusterStatus>
  getCAKeys(): Promise<CAKeys>
  /** The CAs now and after every change, as a stream of JSON lines (CAKeys each). */
  watchCAs(): Promise<Readable>
  /** One rotation step (tctl auth rotate). */
  rotateCA(request: RotateRequest): Promise<{type: 'user' | 'host'; phase: string}[]>
  /** The calling host's certificate signed again by the key that signs now. */
  renewHostCert(): Promise<{certificate: string; hostCAs: string[]}>

  listUsers(): Promise<User[]>
  getUser(name: string): Promise<User>
  /** Creates the user and an invite link (1h). */
  createUser(user: UserSpec): Promise<{user: User; invite: UserTokenInfo}>
  /** Create-or-replace from a resource (`tctl create`); `create` refuses an existing user. */
  upsertUser(user: UserSpec, options?: {create?: boolean}): Promise<User>
  deleteUser(name: string): Promise<void>
  /** A reset link (8h): the user sets a new password and second factor. */
  resetUser(name: string): Promise<UserTokenInfo>
  /** Whether the user exists (nodes and proxies; admins). */
  userStatus(name: string): Promise<{name: string; exists: boolean}>

  /** The locks in force. */
  listLocks(): Promise<Lock[]>
  getLock(name: string): Promise<Lock>
  /** `tctl lock`: a new lock with a random name. */
  createLock(request: {target: LockTarget; message?: string; ttlMs?: number}): Promise<Lock>
  /** Create-or-replace from a resource (`tctl create`); the server validates it. */
  upsertLock(lock: unknown): Promise<Lock>
  deleteLock(name: string): Promise<void>

  // User tokens (the proxy's invite and reset pages)
  getUserToken(token: string): Promise<UserTokenDetails>
  redeemUserToken(request: {token: string; password: string; otpCode?: string}): Promise<{user: string}>

  listRoles(): Promise<Role[]>
  getRole(name: string): Promise<Role>
  /** The role resource as parsed from YAML; the server validates it. */
  upsertRole(role: unknown, options?: {create?: boolean}): Promise<Role>
  deleteRole(name: string): Promise<void>

  listTokens(): Promise<JoinTokenInfo[]>
  addToken(request: {roles: string[]; ttlMs?: number; token?: string; uses?: number}): Promise<JoinTokenInfo>
  deleteToken(token: string): Promise<void>
  /** Joining with a token (anonymous callers may do only this). */
  register(request: RegisterRequest): Promise<RegisterResponse>

  listNodes(): Promise<NodeInfo[]>
  upsertNode(node: Omit<NodeInfo, 'expires'>): Promise<NodeInfo>
  /** Forgets a host: its presence record and its host id (a new host may then join with that id). */
  deleteNode(name: string): Promise<void>
  keepAliveNode(name: string): Promise<NodeInfo>
  /** Recording proxy mode: a host certificate for node `name` on the proxy's key (the proxy's alone). */
  signNodeHostCertForProxy(name: string, publicKey: string): Promise<{certificate: string}>
  /** Live proxies (`tctl get proxies`; proxies tell tunnel agents about them). */
  listProxies(): Promise<ProxyInfo[]>
  /** A proxy announces itself (its own record only), keeps it alive, and removes it when it stops. */
  upsertProxy(proxy: Omit<ProxyInfo, 'expires'>): Promise<ProxyInfo>
  keepAliveProxy(name: string): Promise<ProxyInfo>
  deleteProxy(name: string): Promise<void>
  /** Registers (or with create false, replaces) a plain OpenSSH server; admin only. */
  registerOpenSSHNode(name: string, spec: OpenSSHNodeSpec, options?: {create?: boolean}): Promise<NodeInfo>

  /** `tctl auth sign --user`: admin only. */
  signUserCert(request: {username: string; publicKey: string; ttlMs?: number}): Promise<SignedUserCert>
  /** `tctl auth sign --host`: a host certificate for a plain OpenSSH server; admin only. */
  signHostCert(request: {hostId: string; principals: string[]; publicKey: string; role?: 'Node'; ttlMs?: number}): Promise<{certificate: string; hostCAs: string[]}>
  /** Password (+ OTP) login, on behalf of the proxy's web API. */
  authenticateUser(request: LoginRequest): Promise<SignedUserCert>

  // Web sessions (the proxy, for browsers)
  /** Sign-in: password and second factor checked as for tsh login; auth keeps the session's private key. */
  createWebSession(request: WebLoginRequest): Promise<NewWebSession>
  /** The session for a cookie's id and the page's bearer token, if it is live; marks it active. */
  authenticateWebSession(request: {id: string; bearerToken: string}): Promise<WebSession>
  deleteWebSession(request: {id: string}): Promise<void>
  /** Signs `data` (base64) with the session's key: the ssh-agent the proxy uses as that user. */
  signWithWebSession(request: {id: string; data: string; flags?: number}): Promise<{signature: string}>
  /** The caller changes their own password (user `name` must be the caller). */
  changePassword(name: string, request: {oldPassword: string; newPassword: string; otpCode?: string}): Promise<void>

  emitEvent(event: Record<string, unknown>): Promise<void>
  searchEvents(query: EventQuery): Promise<SearchPage>

  // Live sessions (trackers)
  /** The node running session `sid` writes its tracker (create or replace) and renews it. */
  upsertSessionTracker(sid: string, update: SessionTrackerUpdate): Promise<SessionTracker>
  /** The session ended: its tracker goes. */
  removeSessionTracker(sid: string): Promise<void>
  /** The active sessions the caller may see. */
  listSessionTrackers(): Promise<SessionTracker[]>
  /** One active session the caller may see (NotFoundError otherwise). */
  getSessionTracker(sid: string): Promise<SessionTracker>

  // Session recordings (RecordingStore's upload protocol; the node that ran the session uploads)
  /** The session.end events of recordings the caller may list, newest first, paged like searchEvents. */
  listRecordings(query: RecordingQuery): Promise<SearchPage>
  /** Bytes auth has of the recording: where an upload resumes (0 when it has none). */
  recordingUploaded(sid: string): Promise<{bytes: number}>
  /** Appends `body` at `offset`, refused (CompareFailedError, with the current size) unless it is the stored size. */
  appendRecording(sid: string, offset: number, body: Readable): Promise<AppendResult>
  /** Marks the recording whole; repeating it with the same size is harmless. */
  completeRecording(sid: string, request: {size: number; sha256?: string}): Promise<RecordingInfo>
  /** A complete recording's bytes from `from` (default 0). */
  openRecording(sid: string, options?: {from?: number}): Promise<Readable>
}

// Views by caller, as authorize.ts allows them (a view may hold less than the role may do).

/** A node: its presence, its audit events, and what it reads to decide access (CAs, roles, locks, users). */
export type NodeAuthApi = Pick<AuthApi, 'close' | 'ping' | 'getCAKeys' | 'watchCAs' | 'renewHostCert' | 'upsertNode' | 'keepAliveNode' | 'emitEvent' | 'getRole' | 'listLocks' | 'getLock' | 'userStatus' | 'recordingUploaded' | 'appendRecording' | 'completeRecording' | 'upsertSessionTracker' | 'removeSessionTracker'>
/** A proxy: routing (nodes, CAs, access state), logins and joins for its web clients, its audit events. */
export type ProxyAuthApi = Pick<
  AuthApi,
  | 'close'
  | 'ping'
  | 'getCAKeys'
  | 'watchCAs'
  | 'renewHostCert'
  | 'listNodes'
  | 'listProxies'
  | 'upsertProxy'
  | 'keepAliveProxy'
  | 'deleteProxy'
  | 'signNodeHostCertForProxy'
  | 'upsertSessionTracker'
  | 'removeSessionTracker'
  | 'recordingUploaded'
  | 'appendRecording'
  | 'completeRecording'
  | 'emitEvent'
  | 'getRole'
  | 'listLocks'
  | 'getLock'
  | 'userStatus'
  | 'authenticateUser'
  | 'register'
  | 'getUserToken'
  | 'redeemUserToken'
  | 'createWebSession'
  | 'authenticateWebSession'
  | 'deleteWebSession'
  | 'signWithWebSession'
>
/** A user through the proxy (`tsh ls`): what the user's roles allow; tsh lists nodes and plays recordings. */
export type UserAuthApi = Pick<AuthApi, 'close' | 'ping' | 'listNodes' | 'listRecordings' | 'openRecording' | 'listSessionTrackers' | 'getSessionTracker'>
/** A browser's user, through the proxy's connection signed by auth for the web session: tsh's view, the audit log, the password. */
export type WebUserAuthApi = UserAuthApi & Pick<AuthApi, 'searchEvents' | 'getUser' | 'getRole' | 'changePassword'>
/** tctl with the admin identity: cluster resources, certificates on demand, the audit log. */
export type AdminAuthApi = Omit<
  AuthApi,
  'signNodeHostCertForProxy' | 'upsertNode' | 'keepAliveNode' | 'upsertProxy' | 'keepAliveProxy' | 'deleteProxy' | 'renewHostCert' | 'emitEvent' | 'register' | 'authenticateUser' | 'getUserToken' | 'redeemUserToken' | 'createWebSession' | 'authenticateWebSession' | 'deleteWebSession' | 'signWithWebSession' | 'changePassword' | 'recordingUploaded' | 'appendRecording' | 'completeRecording' | 'upsertSessionTracker' | 'removeSessionTracker'>

// Every route has its method and every method its route, answering the route's response type.
type RouteMethods = Exclude<keyof AuthApi, 'close'>
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false
/** An append's stream carries one JSON answer, which the client reads for its caller. */
type Answer<K extends AuthRouteName> = K extends 'appendRecording' ? AppendResult : ResponseOf<AuthRoutes[K]>
type Answers<K extends AuthRouteName> = K extends keyof AuthApi ? (AuthApi[K] extends (...args: never[]) => Promise<infer R> ? Same<R, Answer<K>> : false) : false
const everyRouteHasAMethod: Same<RouteMethods, AuthRouteName> = true
const everyMethodAnswersItsRoute: {[K in AuthRouteName]: Answers<K>} extends Record<AuthRouteName, true> ? true : false = true
void everyRouteHasAMethod
void everyMethodAnswersItsRoute
