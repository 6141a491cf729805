import type {Backend} from '../../backend/index.js'
import {EventCode, EventName, makeEvent, type AuditLog, type EventFields} from '../../events/index.js'
import type {Clock} from '../../lib/clock.js'
import {NotFoundError} from '../../lib/errors.js'
import {productVersion} from '../../lib/version.js'
import {
  caPublicKeys,
  CAService,
  computeUserCertParams,
  assertNotLocked,
  JoinTokenService,
  LockService,
  NodeService,
  RoleService,
  UserService,
  UserTokenService,
  type CAType,
  type Lock,
  type LockSubject,
  type NewLock,
  type Role,
  type SecondFactor,
  type Traits,
  type User,
  type UserToken,
} from '../../services/index.js'
import {caPin, fingerprint, generateKeyPair, signHostCert, signUserCert} from '../../sshca/index.js'
import type {HostRole} from '../../api/identity.js'
import type {RegisterRequest, RegisterResponse, SignedUserCert, UserTokenInfo} from '../../client/auth-api.js'

// The auth service's logic: the cluster's CAs, users, roles, tokens and presence, every
// change audited. Who may call what is decided before this, in authorize.ts.

export interface AuthServerOptions {
  backend: Backend
  audit: AuditLog
  clock: Clock
  clusterName: string
  secondFactor: SecondFactor
  staticTokens: readonly string[]
  /** host:port of the proxy's web endpoint, for invite links. */
  proxyPublicAddr: string
  bcryptCost?: number
}

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
  readonly cas: CAService
  readonly locks: LockService
  readonly clusterName: string

  private constructor(private readonly options: AuthServerOptions) {
    const {backend, clock} = options
    this.clusterName = options.clusterName
    this.roles = new RoleService(backend)
    this.users = new UserService(backend, {
      clock,
      secondFactor: options.secondFactor,
      bcryptCost: options.bcryptCost,
      roleExists: async (name) => this.roles.get(name).then(() => true, () => false),
    })
    this.userTokens = new UserTokenService(backend, {clock, bcryptCost: options.bcryptCost, issuer: options.clusterName})
    this.joinTokens = new JoinTokenService(backend, {clock, staticTokens: options.staticTokens})
    this.nodes = new NodeService(backend, {clock})
    this.cas = new CAService(backend)
    this.locks = new LockService(backend, {clock})
  }

  /** Opens the auth server, generating the cluster's user and host CAs on first start. */
  static async init(options: AuthServerOptions): Promise<AuthServer> {
    const server = new AuthServer(options)
    for (const type of ['user', 'host'] as const) {
      await server.cas.getOrCreate(type, options.clusterName, () => generateKeyPair(`${type}-ca@${options.clusterName}`))
    }
    return server
  }

  get secondFactor(): SecondFactor {
    return this.options.secondFactor
  }

  get proxyPublicAddr(): string {
    return this.options.proxyPublicAddr
  }

  /** `at`: when it happened, if not now (events a node held while auth was unreachable). */
  async emit(name: EventName, code: EventCode, fields: EventFields, at?: Date): Promise<void> {
    await this.options.audit.emit(makeEvent(name, code, fields, at ? {now: () => at} : this.options.clock))
  }

  /** A reporter's own time for its event, unless it is unreadable or in the future. */
  reportedTime(time: unknown): Date | undefined {
    if (typeof time !== 'string') return undefined
    const at = new Date(time)
    const now = this.options.clock.now().getTime()
    return Number.isNaN(at.getTime()) || at.getTime() > now + 60_000 ? undefined : at
  }

  searchEvents(query: Parameters<AuditLog['search']>[0]) {
    return this.options.audit.search(query)
  }

  // ---- certificate authorities ---------------------------------------------------------------

  async caKeys(type: CAType): Promise<string[]> {
    return caPublicKeys(await this.cas.get(type, this.clusterName))
  }

  async caPins(): Promise<string[]> {
    return (await this.caKeys('host')).map((key) => caPin(key))
  }

  private async signingKey(type: CAType): Promise<string> {
    const ca = await this.cas.get(type, this.clusterName, {withSecrets: true})
    const key = ca.activeKeys.find((k) => k.privateKey)?.privateKey
    if (!key) throw new NotFoundError(`the ${type} CA of ${this.clusterName} has no signing key`)
    return key
  }

  /** A host certificate with the principals REFERENCE.md lists. */
  async issueHostCert(request: {hostId: string; nodeName: string; role: HostRole; publicKey: string; principals?: string[]}): Promise<string> {
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
    const certificate = signUserCert({
      caPrivateKey: await this.signingKey('user'),
      publicKey: request.publicKey,
      keyId: params.username,
      principals: params.principals,
      ttlMs: params.ttlMs,
      now: this.options.clock.now(),
      permitAgentForwarding: params.permitAgentForwarding,
      permitPortForwarding: params.permitPortForwarding,
      permitX11Forwarding: params.permitX11Forwarding,
      roles: params.roles,
      traits: params.traits,
      routeToCluster: params.routeToCluster,
      ...(params.sourceAddress ? {sourceAddress: [params.sourceAddress]} : {}),
    })
    await this.emit(EventName.CertificateCreate, EventCode.CertificateCreate, {
      user: actor.user,
      cert_type: 'user',
      identity: {user: params.username, logins: params.principals, roles: params.roles, expires: new Date(this.options.clock.now().getTime() + params.ttlMs).toISOString()},
    })
    return {username: params.username, certificate, hostCAs: await this.caKeys('host'), clusterName: this.clusterName, ttlMs: params.ttlMs}
  }

  /** Password (+ second factor) login: audited either way; lockout is the user service's. */
  async login(request: {username: string; password: string; otpCode?: string; publicKey: string; ttlMs?: number; clientAddr?: string}, actor: Actor): Promise<SignedUserCert> {
    const fields = {user: request.username, 'addr.remote': request.clientAddr ?? actor.remoteAddr, method: 'local'}
    try {
      await this.users.checkPassword(request.username, request.password, request.otpCode)
      // After the password, so a lock never tells a stranger which names exist.
      await this.assertNotLocked({user: request.username, roles: (await this.users.get(request.username)).roles})
    } catch (err) {
      await this.emit(EventName.UserLogin, EventCode.UserLoginFailure, {...fields, success: false, error: (err as Error).message})
      throw err
    }
    await this.emit(EventName.UserLogin, EventCode.UserLogin, {...fields, success: true})
    return this.issueUserCert(request, {user: request.username, remoteAddr: request.clientAddr})
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
    await this.emit(EventName.UserDelete, EventCode.UserDelete, {user: actor.user, name})
  }

  async resetUser(name: string, actor: Actor): Promise<UserTokenInfo> {
    await this.users.get(name)
    const reset = await this.userTokens.createReset(name)
    await this.emit(EventName.ResetPasswordTokenCreate, EventCode.ResetPasswordTokenCreate, {user: actor.user, name, kind: 'reset', expires: reset.expires.toISOString()})
    return this.userTokenInfo(reset)
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

  async addJoinToken(request: {roles: string[]; ttlMs?: number; token?: string}, actor: Actor) {
    const token = await this.joinTokens.add({type: request.roles.join(','), ttlMs: request.ttlMs, token: request.token})
    await this.emit(EventName.JoinTokenCreate, EventCode.JoinTokenCreate, {user: actor.user, roles: token.roles, expires: token.expires?.toISOString()})
    return token
  }

  /** A host joins with a token: audited whether it is let in or not. */
  async register(request: RegisterRequest, actor: Actor): Promise<RegisterResponse> {
    const fields = {node_name: request.nodeName, host_id: request.hostId, role: request.role, 'addr.remote': actor.remoteAddr}
    try {
      await this.joinTokens.validate(request.token, request.role)
    } catch (err) {
      await this.emit(EventName.InstanceJoin, EventCode.InstanceJoinFailure, {...fields, success: false, error: (err as Error).message})
      throw err
    }
    const role: HostRole = request.role === 'proxy' ? 'Proxy' : 'Node'
    const certificate = await this.issueHostCert({hostId: request.hostId, nodeName: request.nodeName, role, publicKey: request.publicKey, principals: request.additionalPrincipals})
    await this.emit(EventName.InstanceJoin, EventCode.InstanceJoin, {...fields, success: true})
    return {certificate, hostCAs: await this.caKeys('host'), userCAs: await this.caKeys('user'), clusterName: this.clusterName}
  }

  // ---- status --------------------------------------------------------------------------------

  async status() {
    const authorities = await Promise.all(
      (['user', 'host'] as const).map(async (type) => {
        const ca = await this.cas.get(type, this.clusterName)
        return {type, fingerprints: caPublicKeys(ca).map((k) => fingerprint(k)), rotationPhase: ca.rotation?.phase ?? 'standby'}
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
}
