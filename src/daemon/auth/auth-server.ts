import {splitHostPort} from '../../lib/net/ip.js'
import {randomUUID} from 'node:crypto'
import type {Readable} from 'node:stream'
import type {Backend} from '../../backend/index.js'
import {EventCode, EventName, makeEvent, MAX_SEARCH_LIMIT, pageOf, type AuditEvent, type AuditLog, type EventFields, type SearchPage, type SearchQuery} from '../../events/index.js'
import {normaliseQuery} from '../../events/search-query.js'
import type {RecordingStore, RecordingStat} from '../../events/recording-store/index.js'
import type {Clock} from '../../lib/clock.js'
import {AccessDeniedError, BadParameterError, CompareFailedError, LimitExceededError, NotFoundError} from '../../lib/errors.js'
import {RateLimiter, type RateLimit} from '../../lib/rate-limiter.js'
import {productVersion} from '../../lib/version.js'
import {SharedFeed} from './shared-feed.js'
import {
  assertJoinerHostId,
  caPublicKeys,
  CAService,
  checkJoinerPrincipals,
  HostIdService,
  hostIdCandidates,
  computeUserCertParams,
  assertNotLocked,
  CA_PREFIX,
  SSH_CA_TYPES,
  type SshCAType,
  currentPhase,
  DEFAULT_GRACE_PERIOD_MS,
  dueAutoPhase,
  ROTATION_PHASES,
  nextAutoStepAt,
  rotate,
  stepToward,
  signingPublicKey,
  type CertAuthority,
  type RotationPhase,
  JoinTokenService,
  LockService,
  NodeService,
  ProxyService,
  RoleService,
  UserService,
  UserTokenService,
  WebSessionService,
  assertPasswordLength,
  WEB_SESSION_GONE,
  type CAType,
  type Lock,
  type LockSubject,
  type NewLock,
  type Role,
  type SecondFactor,
  type PasswordChecker,
  type Traits,
  type User,
  type UserToken,
  type WebSessionRecord,
} from '../../services/index.js'
import {caPin, fingerprint, generateKeyPair, parseCert, signHostCert, signUserCert, type ParsedCert} from '../../sshca/index.js'
import {generateTlsCA, signX509UserCert} from '../../sshca/x509.js'
import type {HostRole} from '../../api/identity.js'
import type {SessionRecordingMode} from '../../services/models/session-recording.js'
import type {WhereSession} from '../../services/models/rule-where.js'
import {sessionParties} from '../../services/session-parties.js'
import {SessionTrackerService} from '../../services/session-trackers.js'
import type {CAKeys} from '../../api/routes.js'
import type {NewWebSession, RegisterRequest, RegisterResponse, SignedUserCert, UserTokenInfo, WebLoginRequest, WebSession} from '../../api/auth-api.js'

// The auth service's logic: the cluster's CAs, users, roles, tokens and presence, every
// change audited. Who may call what is decided before this, in authorize.ts.

/** How far ahead of auth's clock a host's reported event time may be (clock skew). */
const REPORTED_TIME_AHEAD_MS = 60_000
/**
 * How old a host's reported event time may be: a night of auth being away. Older claims are kept
 * as reported_time but filed at arrival, so a host cannot write into days already reviewed.
 */
const REPORTED_TIME_BEHIND_MS = 24 * 3600_000

/** Host/session pairs remembered as proven uploaders; past this many the memory starts over. */
const MAX_PROVEN_SESSIONS = 10_000
/** A node's certificate for a recording proxy: short, the proxy renews it well before. */
const NODE_CERT_FOR_PROXY_TTL_MS = 3600_000

export interface AuthServerOptions {
  backend: Backend
  audit: AuditLog
  /** Where nodes upload session recordings (FileRecordingStore; tests pass MemoryRecordingStore). */
  recordings: RecordingStore
  clock: Clock
  clusterName: string
  secondFactor: SecondFactor
  staticTokens: readonly string[]
  /** host:port of the proxy's web endpoint, for invite links. */
  proxyPublicAddr: string
  /** auth_service.session_recording: what nodes are told (default `node`). */
  sessionRecording?: SessionRecordingMode
  /** auth_service.proxy_checks_host_keys (default true). */
  proxyChecksHostKeys?: boolean
  /** auth_service.proxy_listener_mode: what proxies are told (default `separate`). */
  proxyListenerMode?: 'separate' | 'multiplex'
  bcryptCost?: number
  /** bcrypt by default; tests count the calls. */
  passwordChecker?: PasswordChecker
  /** Failed password logins allowed per client address; default LOGIN_RATE_LIMIT. */
  loginRateLimit?: RateLimit
  /** auth_service.web_idle_timeout: a web session unused this long is gone (default 30m). */
  webIdleTimeoutMs?: number
  /** Something worth an operator's attention that the server recovers from by itself. */
  onWarning?: (message: string) => void
}

/**
 * Failed password logins per client address: 10 at once, then one every 6 s. Checked before
 * bcrypt, so a flood of guesses costs the server nothing; successful logins are not counted.
 * (Guesses at one name are limited by the lockout, which unknown names share.)
 */
export const LOGIN_RATE_LIMIT: RateLimit = {burst: 10, refillMs: 6_000}

/** Who did it, for the audit log. */
export interface Actor {
  user: string
  remoteAddr?: string
}

export class AuthServer {
  readonly users: UserService
  readonly roles: RoleService
  readonly userTokens: UserTokenService
  readonly joinTokens: JoinTokenService
  readonly nodes: NodeService
  /** Proxies' presence: `tctl get proxies`, and what proxies tell tunnel agents. */
  readonly proxies: ProxyService
  readonly cas: CAService
  readonly hostIds: HostIdService
  readonly locks: LockService
  /** Live sessions, written by the nodes running them. */
  readonly sessionTrackers: SessionTrackerService
  /** Browsers' sign-ins, with their keys (which never leave auth). */
  readonly webSessions: WebSessionService
  readonly clusterName: string
  private readonly loginAttempts: RateLimiter
  private readonly provenSessions = new Set<string>()

  private constructor(private readonly options: AuthServerOptions) {
    const {backend, clock} = options
    this.clusterName = options.clusterName
    this.roles = new RoleService(backend)
    this.users = new UserService(backend, {
      clock,
      secondFactor: options.secondFactor,
      bcryptCost: options.bcryptCost,
      roleExists: async (name) => this.roles.get(name).then(() => true, () => false),
      ...(options.passwordChecker ? {passwordChecker: options.passwordChecker} : {}),
    })
    this.loginAttempts = new RateLimiter(options.loginRateLimit ?? LOGIN_RATE_LIMIT, clock)
    this.userTokens = new UserTokenService(backend, {clock, bcryptCost: options.bcryptCost, issuer: options.clusterName})
    this.joinTokens = new JoinTokenService(backend, {clock, staticTokens: options.staticTokens})
    this.nodes = new NodeService(backend, {clock, onWatchError: (err) => options.onWarning?.(`the node list's watch on the backend failed (${err.message}); it is read again at the next listing`)})
    this.proxies = new ProxyService(backend, {clock})
    this.cas = new CAService(backend)
    this.hostIds = new HostIdService(backend, {clock})
    this.locks = new LockService(backend, {clock})
    this.sessionTrackers = new SessionTrackerService(backend, {clock})
    this.webSessions = new WebSessionService(backend, {clock, ...(options.webIdleTimeoutMs !== undefined ? {idleTimeoutMs: options.webIdleTimeoutMs} : {})})
  }

  /** Opens the auth server, generating the cluster's user and host CAs on first start. */
  static async init(options: AuthServerOptions): Promise<AuthServer> {
    const server = new AuthServer(options)
    for (const type of ['user', 'host'] as const) {
      await server.cas.getOrCreate(type, options.clusterName, () => generateKeyPair(`${type}-ca@${options.clusterName}`))
    }
    await server.cas.getOrCreate('tls', options.clusterName, async () => {
      const ca = await generateTlsCA(options.clusterName, options.clock.now())
      return {publicKey: ca.certificate, privateKey: ca.privateKey}
    })
    return server
  }

  get secondFactor(): SecondFactor {
    return this.options.secondFactor
  }

  get proxyPublicAddr(): string {
    return this.options.proxyPublicAddr
  }

  get proxyListenerMode(): 'separate' | 'multiplex' {
    return this.options.proxyListenerMode ?? 'separate'
  }

  /** auth_service.proxy_checks_host_keys: a recording proxy refuses nodes without a host certificate. */
  get proxyChecksHostKeys(): boolean {
    return this.options.proxyChecksHostKeys ?? true
  }

  get sessionRecording(): SessionRecordingMode {
    return this.options.sessionRecording ?? 'node'
  }

  /** `at`: when it happened, if not now (events a node held while auth was unreachable). */
  async emit(name: EventName, code: EventCode, fields: EventFields, at?: Date): Promise<void> {
    await this.options.audit.emit(makeEvent(name, code, fields, at ? {now: () => at} : this.options.clock))
  }

  /**
   * When a host's reported event happened: its own time if readable and within the window (a node
   * holds events while auth is away), else arrival time with the claim kept as `reported_time`.
   */
  reportedTime(time: unknown): {at?: Date; reported_time?: string} {
    if (typeof time !== 'string') return {}
    const at = new Date(time)
    const now = this.options.clock.now().getTime()
    if (!Number.isNaN(at.getTime()) && at.getTime() <= now + REPORTED_TIME_AHEAD_MS && at.getTime() >= now - REPORTED_TIME_BEHIND_MS) return {at}
    return {reported_time: time.slice(0, 64)}
  }

  async searchEvents(query: SearchQuery): Promise<SearchPage> {
    return pageOf(await this.options.audit.search(query), query)
  }

  /** Whether the audit log has `sid` starting on host `hostId`: only that node may upload its recording. */
  async hostRanSession(hostId: string, sid: string): Promise<boolean> {
    // One upload makes several calls (size, appends, complete): the log is searched once per
    // session, and only a yes is kept (a session.start still in the node's buffer may arrive later).
    const key = `${hostId}/${sid}`
    if (this.provenSessions.has(key)) return true
    const query = {from: new Date(0), to: new Date(this.options.clock.now().getTime() + REPORTED_TIME_AHEAD_MS), sid, types: [EventName.SessionStart]}
    const events = await this.options.audit.search(query)
    if (!events.some((event) => event.server_id === hostId)) return false
    if (this.provenSessions.size >= MAX_PROVEN_SESSIONS) this.provenSessions.clear()
    this.provenSessions.add(key)
    return true
  }

  get recordings(): RecordingStore {
    return this.options.recordings
  }

  /**
   * Marks a recording whole; the first completion audits session.upload (a repeat, after a lost
   * reply, finds it complete already and says nothing).
   */
  async completeRecording(sid: string, request: {size: number; sha256?: string}, hostId: string): Promise<RecordingStat> {
    const before = await this.options.recordings.stat(sid).catch((err) => {
      if (err instanceof NotFoundError) return undefined
      throw err
    })
    const stat = await this.options.recordings.complete(sid, request)
    if (!before?.complete) {
      // Teleport's session.upload names where the recording is: ours is served by the auth API.
      await this.emit(EventName.SessionUpload, EventCode.SessionUpload, {sid, url: `/v1/recordings/${sid}`, size: stat.size, server_id: hostId})
    }
    return stat
  }

  // ---- certificate authorities ---------------------------------------------------------------

  async caKeys(type: CAType): Promise<string[]> {
    return caPublicKeys(await this.cas.get(type, this.clusterName))
  }

  async caPins(): Promise<string[]> {
    return (await this.caKeys('host')).map((key) => caPin(key))
  }

  /** Both CAs' trusted keys with what signs now and the rotation phase: what hosts follow (getCAKeys, watchCAs). */
  async caState(): Promise<CAKeys> {
    const [user, host, tls] = await Promise.all([this.cas.get('user', this.clusterName), this.cas.get('host', this.clusterName), this.cas.get('tls', this.clusterName)])
    const view = (ca: CertAuthority) => ({phase: currentPhase(ca), signingKey: signingPublicKey(ca)})
    return {clusterName: this.clusterName, user: caPublicKeys(user), host: caPublicKeys(host), tls: caPublicKeys(tls), rotation: {user: view(user), host: view(host)}}
  }

  /** caState() now and after every change of a CA, one JSON line each, until the reader goes away. */
  watchCAState(): Readable {
    return this.caStateFeed.subscribe()
  }

  /** Every node's and proxy's CA watch shares one backend watch. */
  private readonly caStateFeed = new SharedFeed({
    watch: () => this.options.backend.watch({prefixes: [CA_PREFIX]}),
    state: async () => JSON.stringify(await this.caState()),
  })

  /** A host's certificate again, for its key, id, role and names, from the key that signs now (rotation). */
  async renewHostCert(cert: ParsedCert): Promise<string> {
    if (cert.type !== 'host' || !cert.hostRole) throw new BadParameterError('only a host certificate can be renewed')
    return signHostCert({
      caPrivateKey: await this.signingKey('host'),
      publicKey: cert.publicKey,
      keyId: cert.keyId,
      principals: cert.principals,
      role: cert.hostRole as HostRole,
      authority: this.clusterName,
      now: this.options.clock.now(),
    })
  }

  /**
   * `tctl auth rotate`: one step of each CA named (both when `type` is absent), each written with
   * compareAndSwap so that two auth servers cannot both take it; every phase change audited.
   */
  async rotateCA(request: {type?: SshCAType; phase?: RotationPhase; manual: boolean; gracePeriodMs?: number}, actor: Actor): Promise<{type: SshCAType; phase: RotationPhase}[]> {
    if (request.manual && request.phase === undefined) throw new BadParameterError('--manual needs --phase', {hint: 'name the phase to go to, e.g. --manual --phase=init'})
    if (!request.manual && request.phase !== undefined) throw new BadParameterError('--phase needs --manual', {hint: 'without --manual the phases advance by themselves over the grace period'})
    const types: SshCAType[] = request.type ? [request.type] : [...SSH_CA_TYPES]
    const cas = await Promise.all(types.map((type) => this.cas.get(type, this.clusterName, {withSecrets: true})))
    // Every step is checked before any is written, so a refused one leaves both CAs as they were.
    const next = cas.map((ca) =>
      rotate(ca, {
        ...(request.phase ? {phase: request.phase} : {}),
        mode: request.manual ? 'manual' : 'auto',
        gracePeriodMs: request.gracePeriodMs ?? ca.rotation?.gracePeriodMs ?? DEFAULT_GRACE_PERIOD_MS,
        now: this.options.clock.now(),
        newKey: () => generateKeyPair(`${ca.type}-ca@${this.clusterName}`),
      }),
    )
    const done: {type: SshCAType; phase: RotationPhase}[] = []
    for (const [i, ca] of cas.entries()) {
      await this.writeRotation(ca, next[i]!, actor)
      done.push({type: types[i]!, phase: currentPhase(next[i]!)})
    }
    if (types.includes('user')) await this.rotateTlsWithUser(actor)
    this.rotationChanged()
    return done
  }

  /**
   * The TLS user CA (the relay's client certificates) rotates with the user CA, as Teleport keeps
   * both in one CA: it is taken step by step to the user CA's phase, so old X.509 certificates are
   * refused when old SSH certificates are. Another auth server taking a step first is fine.
   */
  private async rotateTlsWithUser(actor: Actor): Promise<void> {
    const user = await this.cas.get('user', this.clusterName, {withSecrets: false})
    const target = currentPhase(user)
    for (let steps = 0; steps < ROTATION_PHASES.length; steps++) {
      const tls = await this.cas.get('tls', this.clusterName, {withSecrets: true})
      const phase = stepToward(tls, target)
      if (!phase) return
      const fresh = phase === 'init' ? await generateTlsCA(this.clusterName, this.options.clock.now()) : undefined
      const next = rotate(tls, {
        phase,
        mode: 'manual',
        gracePeriodMs: user.rotation?.gracePeriodMs ?? DEFAULT_GRACE_PERIOD_MS,
        now: this.options.clock.now(),
        newKey: () => ({publicKey: fresh!.certificate, privateKey: fresh!.privateKey}),
      })
      try {
        await this.writeRotation(tls, next, actor)
      } catch (err) {
        if (!(err instanceof CompareFailedError)) throw err
      }
    }
  }

  /** Takes the steps of automatic rotations that are due; another auth server having taken one first is fine. */
  async advanceAutoRotations(): Promise<void> {
    for (const type of SSH_CA_TYPES) {
      const ca = await this.cas.get(type, this.clusterName, {withSecrets: true})
      const phase = dueAutoPhase(ca, this.options.clock.now())
      if (!phase) continue
      const next = rotate(ca, {phase, mode: 'auto', gracePeriodMs: ca.rotation?.gracePeriodMs ?? DEFAULT_GRACE_PERIOD_MS, now: this.options.clock.now(), newKey: () => generateKeyPair(`${type}-ca@${this.clusterName}`)})
      try {
        await this.writeRotation(ca, next, {user: 'system'})
      } catch (err) {
        if (!(err instanceof CompareFailedError)) throw err
      }
    }
    await this.rotateTlsWithUser({user: 'system'})
  }

  /** When the next automatic rotation step is due (ms since the epoch), if any. */
  async nextAutoRotationAt(): Promise<number | undefined> {
    const times = (await this.cas.list(undefined, {withSecrets: false})).filter((ca) => ca.clusterName === this.clusterName).map(nextAutoStepAt)
    const due = times.filter((t): t is number => t !== undefined)
    return due.length ? Math.min(...due) : undefined
  }

  private readonly rotationListeners = new Set<() => void>()

  /** Called after this server changed a CA's rotation (the scheduler re-arms). */
  onRotation(listener: () => void): () => void {
    this.rotationListeners.add(listener)
    return () => this.rotationListeners.delete(listener)
  }

  private rotationChanged(): void {
    for (const listener of this.rotationListeners) listener()
  }

  private async writeRotation(ca: CertAuthority, next: CertAuthority, actor: Actor): Promise<void> {
    await this.cas.compareAndSwap(ca, next)
    const rotation = next.rotation!
    await this.emit(EventName.CertificateRotation, EventCode.CertificateRotation, {
      user: actor.user,
      ...(actor.remoteAddr ? {'addr.remote': actor.remoteAddr} : {}),
      cert_type: ca.type,
      phase: rotation.phase,
      previous_phase: currentPhase(ca),
      mode: rotation.mode ?? 'manual',
      ...(rotation.gracePeriodMs ? {grace_period: `${rotation.gracePeriodMs / 1000}s`} : {}),
    })
  }

  private async signingKey(type: CAType): Promise<string> {
    const ca = await this.cas.get(type, this.clusterName, {withSecrets: true})
    const key = ca.activeKeys.find((k) => k.privateKey)?.privateKey
    if (!key) throw new NotFoundError(`the ${type} CA of ${this.clusterName} has no signing key`)
    return key
  }

  /** A host certificate with the principals REFERENCE.md lists, for a host auth vouches for itself (its own, tctl's, services beside it). */
  async issueHostCert(request: {hostId: string; nodeName: string; role: HostRole; publicKey: string; principals?: string[]}): Promise<string> {
    await this.hostIds.bind(request.hostId, request.role, request.publicKey)
    return this.signHost(request)
  }

  private async signHost(request: {hostId: string; nodeName: string; role: HostRole; publicKey: string; principals?: string[]}): Promise<string> {
    const base = [`${request.hostId}.${this.clusterName}`, request.hostId, `${request.nodeName}.${this.clusterName}`, request.nodeName, 'localhost', '127.0.0.1', '::1']
    const principals = [...new Set([...base, ...(request.principals ?? [])].filter(Boolean))]
    return signHostCert({
      caPrivateKey: await this.signingKey('host'),
      publicKey: request.publicKey,
      keyId: request.hostId,
      principals,
      role: request.role,
      authority: this.clusterName,
      now: this.options.clock.now(),
    })
  }

  /**
   * Recording proxy mode: the proxy terminates users' connections to node `name` and presents this
   * certificate (on a key it made) as the node's. Its names are the node's own as registered (name,
   * hostname, each also under the cluster, and the address's host), so a client checks it as it
   * would the node's; it lives an hour (the proxy asks again well before).
   */
  async issueNodeHostCertForProxy(name: string, publicKey: string): Promise<string> {
    const node = await this.nodes.getNode(name)
    let addrHost = ''
    try {
      addrHost = node.addr ? splitHostPort(node.addr).host : ''
    } catch {
      // a tunnelled node's address may be no host:port at all
    }
    const principals = [...new Set([node.name, node.hostname, `${node.name}.${this.clusterName}`, `${node.hostname}.${this.clusterName}`, addrHost].filter((p) => p && p !== '0.0.0.0' && p !== '::'))]
    return signHostCert({
      ttlMs: NODE_CERT_FOR_PROXY_TTL_MS,
      caPrivateKey: await this.signingKey('host'),
      publicKey,
      keyId: node.name,
      principals,
      role: 'Node',
      authority: this.clusterName,
      now: this.options.clock.now(),
    })
  }

  /** `tctl auth sign --host`: a certificate with exactly the given names, for a plain sshd. */
  async issueOpenSshHostCert(request: {hostId: string; principals: string[]; publicKey: string; ttlMs?: number}, actor: Actor): Promise<string> {
    const certificate = signHostCert({
      ...(request.ttlMs ? {ttlMs: request.ttlMs} : {}),
      caPrivateKey: await this.signingKey('host'),
      publicKey: request.publicKey,
      keyId: request.hostId,
      principals: request.principals,
      role: 'Node',
      authority: this.clusterName,
      now: this.options.clock.now(),
    })
    await this.emit(EventName.CertificateCreate, EventCode.CertificateCreate, {user: actor.user, cert_type: 'host', identity: {host_id: request.hostId, principals: request.principals}})
    return certificate
  }

  /** A user certificate whose logins, TTL and extensions follow from the user's roles. */
  async issueUserCert(request: {username: string; publicKey: string; ttlMs?: number; clientAddr?: string}, actor: Actor): Promise<SignedUserCert> {
    const user = await this.users.get(request.username)
    await this.assertNotLocked({user: user.name, roles: user.roles})
    const roles = await this.roles.getMany(user.roles)
    const params = computeUserCertParams({user, roles, requestedTtlMs: request.ttlMs, clusterName: this.clusterName, clientAddr: request.clientAddr})
    const now = this.options.clock.now()
    const certificate = signUserCert({
      caPrivateKey: await this.signingKey('user'),
      publicKey: request.publicKey,
      keyId: params.username,
      principals: params.principals,
      ttlMs: params.ttlMs,
      now,
      permitAgentForwarding: params.permitAgentForwarding,
      permitPortForwarding: params.permitPortForwarding,
      permitX11Forwarding: params.permitX11Forwarding,
      roles: params.roles,
      traits: params.traits,
      routeToCluster: params.routeToCluster,
      ...(params.sourceAddress ? {sourceAddress: [params.sourceAddress]} : {}),
    })
    // The same identity as X.509 on the same key, for the proxy's TLS relay.
    const tlsCertificate = await signX509UserCert({
      ca: {certificate: (await this.caKeys('tls'))[0]!, privateKey: await this.signingKey('tls')},
      publicKey: request.publicKey,
      identity: {username: params.username, roles: params.roles, logins: params.principals, cluster: params.routeToCluster},
      ttlMs: params.ttlMs,
      now,
    })
    await this.emit(EventName.CertificateCreate, EventCode.CertificateCreate, {
      user: actor.user,
      cert_type: 'user',
      identity: {user: params.username, logins: params.principals, roles: params.roles, expires: new Date(this.options.clock.now().getTime() + params.ttlMs).toISOString()},
    })
    return {username: params.username, certificate, hostCAs: await this.caKeys('host'), clusterName: this.clusterName, ttlMs: params.ttlMs, tlsCertificate, tlsCAs: await this.caKeys('tls')}
  }

  /** Password (+ second factor) login: audited either way; lockout is the user service's. */
  async login(request: {username: string; password: string; otpCode?: string; publicKey: string; ttlMs?: number; clientAddr?: string}, actor: Actor): Promise<SignedUserCert> {
    await this.checkLogin(request, actor)
    return this.issueUserCert(request, {user: request.username, remoteAddr: request.clientAddr})
  }

  /**
   * The checks of a password login (tsh login and the web's sign-in alike): rate limit per client
   * address before bcrypt, password and second factor with the user service's lockout, locks;
   * user.login audited either way.
   */
  private async checkLogin(request: {username: string; password: string; otpCode?: string; clientAddr?: string}, actor: Actor): Promise<void> {
    const fields = {user: request.username, 'addr.remote': request.clientAddr ?? actor.remoteAddr, method: 'local'}
    const source = fields['addr.remote'] ?? ''
    try {
      await this.checkPassword(source, request.username, request.password, request.otpCode)
      // After the password, so a lock never tells a stranger which names exist.
      await this.assertNotLocked({user: request.username, roles: (await this.users.get(request.username)).roles})
    } catch (err) {
      await this.emit(EventName.UserLogin, EventCode.UserLoginFailure, {...fields, success: false, error: (err as Error).message})
      throw err
    }
    this.loginAttempts.giveBack(source)
    await this.emit(EventName.UserLogin, EventCode.UserLogin, {...fields, success: true})
  }

  /** Password and second factor, rate-limited per `source` before bcrypt runs; the caller gives the token back on success. */
  private async checkPassword(source: string, username: string, password: string, otpCode?: string): Promise<void> {
    const waitMs = this.loginAttempts.take(source)
    if (waitMs > 0) throw new LimitExceededError(`too many login attempts, try again in ${Math.ceil(waitMs / 1000)} seconds`)
    await this.users.checkPassword(username, password, otpCode)
  }

  // ---- web sessions --------------------------------------------------------------------------

  /**
   * A browser's sign-in, for the proxy: checked as a tsh login is (rate limit, lockout, locks,
   * user.login audited), then a key pair made here and a user certificate signed for it as for
   * tsh login (TTL: tsh's default capped by the roles). The private key stays in the session.
   */
  async createWebSession(request: WebLoginRequest, actor: Actor): Promise<NewWebSession> {
    await this.checkLogin(request, actor)
    const keys = generateKeyPair(`web-session@${this.clusterName}`)
    const signed = await this.issueUserCert({username: request.username, publicKey: keys.publicKey, clientAddr: request.clientAddr}, {user: request.username, remoteAddr: request.clientAddr})
    const user = await this.users.get(request.username)
    const validBefore = parseCert(signed.certificate).validBefore
    const expires = validBefore ?? new Date(this.options.clock.now().getTime() + signed.ttlMs)
    const {id, bearerToken, session} = await this.webSessions.create({user: user.name, userCreatedAt: user.createdAt, expires, privateKey: keys.privateKey, certificate: signed.certificate})
    return {...this.webSessionView(id, session, user.roles), bearerToken}
  }

  /** The live session for a cookie's id and bearer token, its user still there and not locked; marks it active. */
  async authenticateWebSession(id: string, bearerToken: string): Promise<WebSession> {
    const session = await this.webSessions.authenticate(id, bearerToken)
    return this.webSessionView(id, session, await this.webSessionUserRoles(id, session))
  }

  /** The ssh-agent sign operation with live session `id`'s key (raw signature), for the proxy. */
  async signWithWebSession(id: string, data: Buffer): Promise<Buffer> {
    await this.webSessionUserRoles(id, await this.webSessions.get(id))
    return this.webSessions.sign(id, data)
  }

  async deleteWebSession(id: string): Promise<void> {
    await this.webSessions.delete(id)
  }

  /** The session's user's roles now; refuses (and, for a deleted user, removes) the session when the user is gone or locked. */
  private async webSessionUserRoles(id: string, session: WebSessionRecord): Promise<string[]> {
    const user = await this.users.get(session.user).catch((err: unknown) => {
      if (err instanceof NotFoundError) return undefined
      throw err
    })
    // A user deleted, or deleted and made again under the name, does not keep the old sessions.
    if (!user || user.createdAt !== session.userCreatedAt) {
      await this.webSessions.delete(id)
      throw new AccessDeniedError(WEB_SESSION_GONE)
    }
    await this.assertNotLocked({user: user.name, roles: [...new Set([...user.roles, ...parseCert(session.certificate).roles])]})
    return user.roles
  }

  private webSessionView(id: string, session: WebSessionRecord, roles: string[]): WebSession {
    return {id, user: session.user, roles, certificate: session.certificate, created: session.created, expires: session.expires, idleTimeoutMs: session.idleTimeoutMs}
  }

  // ---- users ---------------------------------------------------------------------------------

  userTokenInfo(token: UserToken & {token: string}): UserTokenInfo {
    const addr = this.proxyPublicAddr
    return {token: token.token, kind: token.kind, user: token.user, expires: token.expires.toISOString(), url: `https://${addr}/web/${token.kind}/${token.token}`, proxyAddr: addr}
  }

  async createUser(input: {name: string; roles: string[]; traits: Traits}, actor: Actor): Promise<{user: User; invite: UserTokenInfo}> {
    await this.roles.getMany(input.roles)
    const user = await this.users.create({name: input.name, roles: input.roles, traits: input.traits})
    await this.emit(EventName.UserCreate, EventCode.UserCreate, {user: actor.user, name: user.name, roles: user.roles})
    const invite = await this.userTokens.createInvite(user.name)
    await this.emit(EventName.ResetPasswordTokenCreate, EventCode.ResetPasswordTokenCreate, {user: actor.user, name: user.name, kind: 'invite', expires: invite.expires.toISOString()})
    return {user, invite: this.userTokenInfo(invite)}
  }

  async upsertUser(input: {name: string; roles: string[]; traits: Traits}, create: boolean, actor: Actor): Promise<User> {
    await this.roles.getMany(input.roles)
    const existed = await this.users.get(input.name).then(() => true, () => false)
    const user = create ? await this.users.create(input) : await this.users.upsert(input)
    if (existed) await this.emit(EventName.UserUpdate, EventCode.UserUpdate, {user: actor.user, name: user.name, roles: user.roles})
    else await this.emit(EventName.UserCreate, EventCode.UserCreate, {user: actor.user, name: user.name, roles: user.roles})
    return user
  }

  async deleteUser(name: string, actor: Actor): Promise<void> {
    await this.users.delete(name)
    await this.webSessions.deleteUser(name)
    await this.emit(EventName.UserDelete, EventCode.UserDelete, {user: actor.user, name})
  }

  async resetUser(name: string, actor: Actor): Promise<UserTokenInfo> {
    await this.users.get(name)
    const reset = await this.userTokens.createReset(name)
    await this.emit(EventName.ResetPasswordTokenCreate, EventCode.ResetPasswordTokenCreate, {user: actor.user, name, kind: 'reset', expires: reset.expires.toISOString()})
    return this.userTokenInfo(reset)
  }

  /**
   * A user changes their own password: the current one and the second factor are checked as at
   * login (rate limit per user, lockout), the new one must follow the password rules.
   */
  async changePassword(name: string, request: {oldPassword: string; newPassword: string; otpCode?: string}, actor: Actor): Promise<void> {
    assertPasswordLength(request.newPassword) // before anything is counted: the rules are no secret
    const source = `user:${name}`
    await this.checkPassword(source, name, request.oldPassword, request.otpCode)
    this.loginAttempts.giveBack(source)
    await this.users.setPassword(name, request.newPassword)
    await this.emit(EventName.UserPasswordChange, EventCode.UserPasswordChange, {user: name, 'addr.remote': actor.remoteAddr})
  }

  async redeemUserToken(request: {token: string; password: string; otpCode?: string}, actor: Actor): Promise<{user: string}> {
    const {name} = await this.userTokens.redeem({...request, secondFactor: this.secondFactor})
    await this.emit(EventName.UserPasswordChange, EventCode.UserPasswordChange, {user: name, 'addr.remote': actor.remoteAddr})
    return {user: name}
  }

  // ---- roles ---------------------------------------------------------------------------------

  async upsertRole(raw: unknown, create: boolean, actor: Actor): Promise<Role> {
    const name = (raw as {metadata?: {name?: string}})?.metadata?.name
    const existed = typeof name === 'string' && (await this.roles.get(name).then(() => true, () => false))
    const role = create ? await this.roles.create(raw) : await this.roles.upsert(raw)
    if (existed) await this.emit(EventName.RoleUpdated, EventCode.RoleUpdated, {user: actor.user, name: role.metadata.name})
    else await this.emit(EventName.RoleCreated, EventCode.RoleCreated, {user: actor.user, name: role.metadata.name})
    return role
  }

  async deleteRole(name: string, actor: Actor): Promise<void> {
    await this.roles.delete(name)
    await this.emit(EventName.RoleDeleted, EventCode.RoleDeleted, {user: actor.user, name})
  }

  // ---- locks ---------------------------------------------------------------------------------

  /** AccessDeniedError with Teleport's "lock targeting ... is in force" when a lock applies. */
  async assertNotLocked(subject: LockSubject): Promise<void> {
    assertNotLocked(await this.locks.list(), subject, this.options.clock.now())
  }

  async createLock(input: NewLock, actor: Actor): Promise<Lock> {
    const lock = await this.locks.create({...input, createdBy: actor.user})
    await this.emitLockCreated(lock, actor)
    return lock
  }

  async upsertLock(raw: unknown, actor: Actor): Promise<Lock> {
    const lock = await this.locks.upsert(raw)
    await this.emitLockCreated(lock, actor)
    return lock
  }

  async deleteLock(name: string, actor: Actor): Promise<void> {
    await this.locks.delete(name)
    await this.emit(EventName.LockDeleted, EventCode.LockDeleted, {user: actor.user, name})
  }

  private emitLockCreated(lock: Lock, actor: Actor): Promise<void> {
    return this.emit(EventName.LockCreated, EventCode.LockCreated, {user: actor.user, name: lock.metadata.name, target: lock.spec.target, ...(lock.spec.expires ? {expires: lock.spec.expires} : {})})
  }

  // ---- joining -------------------------------------------------------------------------------

  async addJoinToken(request: {roles: string[]; ttlMs?: number; token?: string; uses?: number}, actor: Actor) {
    const token = await this.joinTokens.add({type: request.roles.join(','), ttlMs: request.ttlMs, token: request.token, uses: request.uses})
    await this.emit(EventName.JoinTokenCreate, EventCode.JoinTokenCreate, {user: actor.user, roles: token.roles, expires: token.expires?.toISOString(), uses: token.usesLeft})
    return token
  }

  /**
   * A host joins with a token: audited whether it is let in or not. The token is checked first, so
   * that only token holders learn whether a host id or name is taken. A joiner without a host id
   * gets a new one (returned in the response).
   */
  async register(request: RegisterRequest, actor: Actor): Promise<RegisterResponse> {
    const hostId = request.hostId ?? randomUUID()
    const fields = {node_name: request.nodeName, host_id: hostId, role: request.role, 'addr.remote': actor.remoteAddr}
    const role: HostRole = request.role === 'proxy' ? 'Proxy' : 'Node'
    let principals: string[]
    try {
      principals = await this.admitJoiner({...request, hostId}, role)
    } catch (err) {
      await this.emit(EventName.InstanceJoin, EventCode.InstanceJoinFailure, {...fields, success: false, error: (err as Error).message})
      throw err
    }
    const certificate = await this.signHost({hostId, nodeName: request.nodeName, role, publicKey: request.publicKey, principals})
    await this.emit(EventName.InstanceJoin, EventCode.InstanceJoin, {...fields, success: true})
    return {hostId, certificate, hostCAs: await this.caKeys('host'), userCAs: await this.caKeys('user'), clusterName: this.clusterName}
  }

  /** Checks the token, the host id and the names asked for; claims the id and takes the token's use in one write. */
  private async admitJoiner(request: RegisterRequest & {hostId: string}, role: HostRole): Promise<string[]> {
    await this.joinTokens.validate(request.token, request.role)
    assertJoinerHostId(request.hostId)
    const principals = checkJoinerPrincipals({
      nodeName: request.nodeName,
      additionalPrincipals: request.additionalPrincipals ?? [],
      clusterName: this.clusterName,
      reserved: role === 'Proxy' || !this.proxyPublicAddr ? [] : [this.proxyPublicAddr.replace(/:\d+$/, '').replace(/^\[(.*)\]$/, '$1')],
    })
    for (const name of [request.nodeName, ...principals]) {
      for (const id of hostIdCandidates(name, this.clusterName)) {
        if (id !== request.hostId && (await this.hostIds.get(id))) throw new BadParameterError(`${name === request.nodeName ? 'node name' : 'principal'} ${JSON.stringify(name)} is the id of another host`)
      }
    }
    for (let attempt = 0; ; attempt++) {
      const claim = await this.hostIds.claimForJoin(request.hostId, role, request.publicKey)
      try {
        await this.joinTokens.admit(request.token, request.role, claim)
        return principals
      } catch (err) {
        // Another join changed the token or the id meanwhile: decide again on what is there now.
        if (!(err instanceof CompareFailedError) || attempt >= 5) throw err
      }
    }
  }

  /** `tctl rm node/<id>`: forgets the host, so that its id may join again (from a host that lost its keys). */
  async removeHost(hostId: string): Promise<void> {
    const hadRecord = await this.nodes.deleteNode(hostId).then(() => true, (err: unknown) => {
      if (err instanceof NotFoundError) return false
      throw err
    })
    if (!(await this.hostIds.delete(hostId)) && !hadRecord) throw new NotFoundError(`node ${JSON.stringify(hostId)} is not found`)
  }

  // ---- status --------------------------------------------------------------------------------

  async status() {
    const authorities = await Promise.all(
      (['user', 'host'] as const).map(async (type) => {
        const ca = await this.cas.get(type, this.clusterName)
        return {
          type,
          fingerprints: caPublicKeys(ca).map((k) => fingerprint(k)),
          rotationPhase: currentPhase(ca),
          // Every trusted key's pin while rotating, the signing one first.
          pins: caPublicKeys(ca).map((k) => caPin(k)),
          rotation: {state: currentPhase(ca) === 'standby' ? ('standby' as const) : ('in_progress' as const), mode: ca.rotation?.mode ?? 'manual', ...(ca.rotation?.started ? {started: ca.rotation.started} : {}), ...(ca.rotation?.gracePeriodMs ? {gracePeriodMs: ca.rotation.gracePeriodMs} : {}), ...(ca.rotation?.lastRotated ? {lastRotated: ca.rotation.lastRotated} : {}), ...(ca.rotation?.schedule && currentPhase(ca) !== 'standby' ? {schedule: ca.rotation.schedule} : {})},
        }
      }),
    )
    const [users, roles, nodes, tokens] = await Promise.all([this.users.list(), this.roles.list(), this.nodes.listNodes(), this.joinTokens.list()])
    return {
      clusterName: this.clusterName,
      serverVersion: productVersion(),
      caPins: await this.caPins(),
      authorities,
      counts: {users: users.length, roles: roles.length, nodes: nodes.length, tokens: tokens.length},
    }
  }

  // ---- sessions as the audit log tells them --------------------------------------------------

  /** Ended sessions' parties: a session.end is final, so playback and seeking search the log once. */
  private readonly endedSessions = new Map<string, WhereSession>()
  private static readonly MAX_ENDED_SESSIONS = 10_000

  /** Who took part in session `sid` (its session.end, else its start and joins); undefined when the log has no trace of it. */
  async sessionParticipants(sid: string): Promise<WhereSession | undefined> {
    const known = this.endedSessions.get(sid)
    if (known) return known
    const to = new Date(this.options.clock.now().getTime() + REPORTED_TIME_AHEAD_MS)
    const types = [EventName.SessionEnd, EventName.SessionStart, EventName.SessionJoin]
    const events = await this.options.audit.search({from: new Date(0), to, sid, types, limit: MAX_SEARCH_LIMIT})
    const parties = sessionParties(events)
    if (parties && events.some((event) => event.event === EventName.SessionEnd)) {
      if (this.endedSessions.size >= AuthServer.MAX_ENDED_SESSIONS) this.endedSessions.clear()
      this.endedSessions.set(sid, parties)
    }
    return parties
  }

  /**
   * searchEvents keeping only the events `keep` accepts, paged the same way: a page is filled up
   * to the limit from as many underlying pages as that takes, and its nextKey continues after its
   * last event. A scan that examined `budget` events without filling the page stops there: a short
   * page whose nextKey continues the scan, so one call never reads the whole log.
   */
  async searchEventsWhere(query: SearchQuery, keep: (event: AuditEvent) => boolean, {batch = MAX_SEARCH_LIMIT, budget = 10 * MAX_SEARCH_LIMIT} = {}): Promise<SearchPage> {
    const {limit} = normaliseQuery(query)
    const kept: AuditEvent[] = []
    let startKey = query.startKey
    for (let examined = 0; ; ) {
      const page = await this.searchEvents({...query, limit: batch, ...(startKey ? {startKey} : {})})
      for (const event of page.events) {
        if (!keep(event)) continue
        kept.push(event)
        if (kept.length === limit) return pageOf(kept, {...query, limit})
      }
      examined += page.events.length
      if (page.nextKey === undefined) return {events: kept}
      startKey = page.nextKey
      if (examined >= budget) return {events: kept, nextKey: startKey}
    }
  }
}
