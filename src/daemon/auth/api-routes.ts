import {identityName, type ApiIdentity} from '../../api/identity.js'
import type {BodyOf, Route} from '../../api/route.js'
import {Router, serveRoutes, type RouteContext, type RouteHandler} from '../../api/router.js'
import {AUTH_ROUTES, type AuthRoutes, type NodeInfo, type ProxyInfo} from '../../api/routes.js'
import {Readable} from 'node:stream'
import {checkSessionId} from '../../events/recording-store/index.js'
import {AccessDeniedError, BadParameterError, NotFoundError} from '../../lib/errors.js'
import {joinHostPort, parseEndpoint, plainIp} from '../../lib/net/ip.js'
import {productVersion} from '../../lib/version.js'
import {ROTATION_PHASES, type RotationPhase, canSeeNode, checkResourceAccess, nodeLabels, toPublic, userFromResource, type LockTarget, type NodeRecord, type ServerNode, type ServerProxy} from '../../services/index.js'
import {sessionParties} from '../../services/session-parties.js'
import {validateSessionTrackerUpdate} from '../../services/session-trackers.js'
import type {AuthServer, Actor} from './auth-server.js'
import {authorize, authorizeSessionRead, currentUserAccess, sessionAccess, trackerVisibility, visibleTracker, type Action} from './authorize.js'

// The auth API's handlers, one per route of AUTH_ROUTES (src/api/routes.ts; the client side is
// src/api/auth-api-client.ts). Each route states the action it performs; authorize() decides
// before anything happens.

function actor(identity: ApiIdentity): Actor {
  return {user: identityName(identity), remoteAddr: identity.remoteAddr}
}

function str(value: unknown, field: string): string {
  if (typeof value !== 'string' || value === '') throw new BadParameterError(`missing or invalid field "${field}"`)
  return value
}

function optionalNumber(value: unknown, field: string): number | undefined {
  if (value === undefined || value === null) return undefined
  if (typeof value !== 'number' || !Number.isFinite(value)) throw new BadParameterError(`field "${field}" must be a number`)
  return value
}

/** A byte count from the query (offset, from); absent gives `fallback`. */
function byteCount(value: string | undefined, field: string, fallback?: number): number {
  if (value === undefined && fallback !== undefined) return fallback
  const n = Number(value)
  if (value === undefined || value === '' || !Number.isSafeInteger(n) || n < 0) throw new BadParameterError(`query "${field}" must be a byte count`)
  return n
}

function optionalString(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined
}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/

function strings(value: unknown, field: string): string[] {
  if (!Array.isArray(value) || !value.every((v) => typeof v === 'string')) throw new BadParameterError(`field "${field}" must be a list of strings`)
  return value
}

/** The body's fields by their declared names; their values are the caller's, still to be checked. */
function body<R extends Route>(ctx: RouteContext<R>): {[K in keyof BodyOf<R>]?: unknown} {
  if (typeof ctx.body !== 'object' || ctx.body === null || Array.isArray(ctx.body)) throw new BadParameterError('expected a JSON object body')
  return ctx.body as {[K in keyof BodyOf<R>]?: unknown}
}

/**
 * The wire form of each record, made once: the node list holds the same objects until a record
 * changes (services/watched-items.ts), and listing 10,000 nodes would otherwise copy them all.
 */
const wireNodes = new WeakMap<ServerNode, NodeInfo>()

function nodeInfo(node: ServerNode): NodeInfo {
  let info = wireNodes.get(node)
  if (!info) {
    const {expires, ...record} = node
    info = expires ? {...record, expires: expires.toISOString()} : record
    wireNodes.set(node, info)
  }
  return info
}

function proxyInfo(proxy: ServerProxy): ProxyInfo {
  return {...proxy, expires: proxy.expires.toISOString()}
}

/**
 * A node listening on every interface announces "0.0.0.0:3022" (it cannot know which of its
 * addresses others reach it by): the address it called us from stands in for the host.
 */
export function announcedAddr(addr: string, callerAddr: string): string {
  const announced = parseEndpoint(addr)
  if (!announced) return addr
  if (announced.host !== '' && announced.host !== '0.0.0.0' && announced.host !== '::') return addr
  const caller = plainIp(callerAddr)
  return caller === '' ? addr : joinHostPort(caller, announced.port)
}

export function authApiRoutes(auth: AuthServer): Router {
  /** A handler that runs once authorize() allows the action. */
  const guarded =
    <R extends Route>(action: Action | ((ctx: RouteContext<R>) => Action), handler: RouteHandler<R>): RouteHandler<R> =>
    (async (ctx: RouteContext<R>) => {
      await authorize(auth, ctx.identity, typeof action === 'function' ? action(ctx) : action)
      return handler(ctx)
    }) as RouteHandler<R>
  // The sid's shape is checked first: the audit log is searched for it before the store sees it.
  const uploadBy = ({params}: {params: {sid: string}}): Action => (checkSessionId(params.sid), {resource: 'recording', verb: 'upload', sid: params.sid})
  // Only the node running the session writes its tracker; the sid's shape is checked before the store is asked.
  const trackerWrite = (verb: 'update' | 'delete') => ({params}: {params: {sid: string}}): Action => (checkSessionId(params.sid), {resource: 'session_tracker', verb, sid: params.sid})
  const createVerb = (ctx: {query: {create?: string}}) => (ctx.query.create === 'true' ? 'create' : 'update')
  const tokenInfo = (t: {token: string; roles: string[]; expires?: Date; static: boolean; usesLeft?: number}) => ({token: t.token, roles: t.roles, expires: t.expires?.toISOString(), static: t.static, usesLeft: t.usesLeft})

  return serveRoutes<AuthRoutes>(new Router(), AUTH_ROUTES, {
    // Anyone connected may ask who the cluster is (joining hosts check the pin against it).
    ping: async () => ({
      clusterName: auth.clusterName,
      serverVersion: productVersion(),
      caPins: await auth.caPins(),
      secondFactor: auth.secondFactor,
      proxyPublicAddr: auth.proxyPublicAddr,
      sessionRecording: auth.sessionRecording,
      proxyChecksHostKeys: auth.proxyChecksHostKeys,
      proxyListenerMode: auth.proxyListenerMode,
    }),
    status: guarded({resource: 'cert_authority', verb: 'list'}, () => auth.status()),
    getCAKeys: guarded({resource: 'cert_authority', verb: 'read'}, () => auth.caState()),
    watchCAs: guarded({resource: 'cert_authority', verb: 'read'}, () => auth.watchCAState()),
    rotateCA: guarded({resource: 'cert_authority', verb: 'update'}, (ctx) => {
      const b = body(ctx)
      const type = b.type === undefined ? undefined : str(b.type, 'type')
      if (type !== undefined && type !== 'user' && type !== 'host') throw new BadParameterError(`unknown CA type ${JSON.stringify(type)}; expected user or host`)
      const phase = b.phase === undefined ? undefined : str(b.phase, 'phase')
      if (phase !== undefined && !ROTATION_PHASES.includes(phase as RotationPhase)) throw new BadParameterError(`unknown rotation phase ${JSON.stringify(phase)}; expected one of ${ROTATION_PHASES.join(', ')}`)
      return auth.rotateCA({...(type ? {type} : {}), ...(phase ? {phase: phase as RotationPhase} : {}), manual: b.manual === true, gracePeriodMs: optionalNumber(b.gracePeriodMs, 'gracePeriodMs')}, actor(ctx.identity))
    }),
    renewHostCert: guarded({resource: 'host_cert', verb: 'renew'}, async ({identity}) => {
      if (identity.kind !== 'host') throw new BadParameterError('only hosts renew host certificates')
      return {certificate: await auth.renewHostCert(identity.cert), hostCAs: await auth.caKeys('host')}
    }),

    // Users
    listUsers: guarded({resource: 'user', verb: 'list'}, async () => (await auth.users.list()).map(toPublic)),
    getUser: guarded(({params}) => ({resource: 'user', verb: 'read', name: params.name}), async ({params}) => toPublic(await auth.users.get(params.name))),
    createUser: guarded({resource: 'user', verb: 'create'}, (ctx) => {
      const input = userFromResource({kind: 'user', version: 'v2', metadata: {name: body(ctx).name}, spec: {roles: body(ctx).roles, traits: body(ctx).traits ?? {}}})
      return auth.createUser(input, actor(ctx.identity))
    }),
    upsertUser: guarded((ctx) => ({resource: 'user', verb: createVerb(ctx)}), (ctx) => {
      const b = body(ctx)
      const input = userFromResource({kind: 'user', version: 'v2', metadata: {name: ctx.params.name}, spec: {roles: b.roles, traits: b.traits ?? {}}})
      return auth.upsertUser(input, ctx.query.create === 'true', actor(ctx.identity)).then(toPublic)
    }),
    deleteUser: guarded({resource: 'user', verb: 'delete'}, ({params, identity}) => auth.deleteUser(params.name, actor(identity))),
    // Only whether the user exists: nodes and proxies end the sessions of deleted users.
    userStatus: guarded({resource: 'user_status', verb: 'read'}, async ({params}) => ({
      name: params.name,
      exists: await auth.users.get(params.name).then(
        () => true,
        (err) => {
          if (err instanceof NotFoundError) return false
          throw err
        },
      ),
    })),
    resetUser: guarded({resource: 'user', verb: 'update'}, ({params, identity}) => auth.resetUser(params.name, actor(identity))),

    // Invite and reset links, served by the proxy
    getUserToken: guarded({resource: 'user_token', verb: 'read'}, async ({params}) => {
      const token = await auth.userTokens.getUserToken(params.token)
      return {kind: token.kind, user: token.user, expires: token.expires.toISOString(), totp: token.totp}
    }),
    redeemUserToken: guarded({resource: 'user_token', verb: 'create'}, (ctx) => {
      const b = body(ctx)
      return auth.redeemUserToken({token: ctx.params.token, password: str(b.password, 'password'), otpCode: typeof b.otpCode === 'string' ? b.otpCode : undefined}, actor(ctx.identity))
    }),
    changePassword: guarded(({params}) => ({resource: 'password', verb: 'update', name: params.name}), (ctx) => {
      const b = body(ctx)
      const oldPassword = typeof b.oldPassword === 'string' ? b.oldPassword : ''
      return auth.changePassword(ctx.params.name, {oldPassword, newPassword: str(b.newPassword, 'newPassword'), otpCode: optionalString(b.otpCode)}, actor(ctx.identity))
    }),

    // Roles
    listRoles: guarded({resource: 'role', verb: 'list'}, () => auth.roles.list()),
    getRole: guarded(({params}) => ({resource: 'role', verb: 'read', name: params.name}), ({params}) => auth.roles.get(params.name)),
    upsertRole: guarded((ctx) => ({resource: 'role', verb: createVerb(ctx)}), (ctx) => {
      const name = (ctx.body as {metadata?: {name?: unknown}} | undefined)?.metadata?.name
      if (name !== ctx.params.name) throw new BadParameterError(`role name in the path (${ctx.params.name}) and in metadata.name (${String(name)}) differ`)
      return auth.upsertRole(ctx.body, ctx.query.create === 'true', actor(ctx.identity))
    }),
    deleteRole: guarded({resource: 'role', verb: 'delete'}, ({params, identity}) => auth.deleteRole(params.name, actor(identity))),

    // Locks
    listLocks: guarded({resource: 'lock', verb: 'list'}, () => auth.locks.list()),
    getLock: guarded({resource: 'lock', verb: 'read'}, ({params}) => auth.locks.get(params.name)),
    createLock: guarded({resource: 'lock', verb: 'create'}, (ctx) => {
      const b = body(ctx)
      const message = b.message === undefined ? undefined : str(b.message, 'message')
      return auth.createLock({target: (b.target ?? {}) as LockTarget, ...(message ? {message} : {}), ttlMs: optionalNumber(b.ttlMs, 'ttlMs')}, actor(ctx.identity))
    }),
    upsertLock: guarded({resource: 'lock', verb: 'create'}, (ctx) => {
      const name = (ctx.body as {metadata?: {name?: unknown}} | undefined)?.metadata?.name
      if (name !== ctx.params.name) throw new BadParameterError(`lock name in the path (${ctx.params.name}) and in metadata.name (${String(name)}) differ`)
      return auth.upsertLock(ctx.body, actor(ctx.identity))
    }),
    deleteLock: guarded({resource: 'lock', verb: 'delete'}, ({params, identity}) => auth.deleteLock(params.name, actor(identity))),

    // Join tokens
    listTokens: guarded({resource: 'token', verb: 'list'}, async () => (await auth.joinTokens.list()).map(tokenInfo)),
    addToken: guarded({resource: 'token', verb: 'create'}, async (ctx) => {
      const b = body(ctx)
      const token = await auth.addJoinToken({roles: strings(b.roles, 'roles'), ttlMs: optionalNumber(b.ttlMs, 'ttlMs'), token: typeof b.token === 'string' ? b.token : undefined, uses: optionalNumber(b.uses, 'uses')}, actor(ctx.identity))
      return tokenInfo(token)
    }),
    deleteToken: guarded({resource: 'token', verb: 'delete'}, ({params}) => auth.joinTokens.delete(params.token)),
    register: guarded({resource: 'register', verb: 'create'}, (ctx) => {
      const b = body(ctx)
      const role = str(b.role, 'role')
      if (role !== 'node' && role !== 'proxy') throw new BadParameterError(`cannot join as "${role}"; expected node or proxy`)
      return auth.register(
        {token: str(b.token, 'token'), hostId: b.hostId === undefined ? undefined : str(b.hostId, 'hostId'), nodeName: str(b.nodeName, 'nodeName'), role, publicKey: str(b.publicKey, 'publicKey'), additionalPrincipals: b.additionalPrincipals === undefined ? [] : strings(b.additionalPrincipals, 'additionalPrincipals')},
        actor(ctx.identity),
      )
    }),

    // Presence
    listNodes: async ({identity}) => {
      const nodes = await auth.nodes.listNodes()
      if (identity.kind !== 'user') {
        await authorize(auth, identity, {resource: 'node', verb: 'list'})
        return nodes.map(nodeInfo)
      }
      // Users (tsh ls) see the nodes their current roles give them access to; a rule to list nodes shows all.
      const {roles, traits} = await currentUserAccess(auth, identity, {resource: 'node', verb: 'list'})
      if (checkResourceAccess(roles, 'node', 'list').allowed) return nodes.map(nodeInfo)
      return nodes.filter((node) => canSeeNode({roles, traits, nodeLabels: nodeLabels(node)})).map(nodeInfo)
    },
    upsertNode: guarded(({params}) => ({resource: 'presence', verb: 'update', subject: params.name}), async (ctx) => {
      const b = body(ctx)
      const record: NodeRecord = {
        name: ctx.params.name,
        hostname: str(b.hostname, 'hostname'),
        addr: typeof b.addr === 'string' ? announcedAddr(b.addr, ctx.identity.remoteAddr) : '',
        labels: (b.labels ?? {}) as Record<string, string>,
        cmdLabels: (b.cmdLabels ?? {}) as NodeRecord['cmdLabels'],
        version: typeof b.version === 'string' ? b.version : '',
        ...(b.tunnel === true ? {tunnel: true} : {}),
      }
      return nodeInfo(await auth.nodes.upsertNode(record))
    }),
    // tctl rm node/<id>: the record and the host id, which a new host may then join with.
    deleteNode: guarded({resource: 'node', verb: 'delete'}, ({params}) => auth.removeHost(params.name)),
    registerOpenSSHNode: guarded((ctx) => ({resource: 'node', verb: createVerb(ctx)}), async (ctx) => {
      const b = body(ctx)
      const spec = {name: ctx.params.name, hostname: str(b.hostname, 'hostname'), addr: str(b.addr, 'addr'), labels: (b.labels ?? {}) as Record<string, string>}
      return nodeInfo(await auth.nodes.registerOpenSSHNode(spec, {create: ctx.query.create === 'true'}))
    }),
    signNodeHostCertForProxy: guarded({resource: 'node_host_cert', verb: 'create'}, async (ctx) => {
      return {certificate: await auth.issueNodeHostCertForProxy(ctx.params.name, str(body(ctx).publicKey, 'publicKey'))}
    }),
    keepAliveNode: guarded(({params}) => ({resource: 'presence', verb: 'update', subject: params.name}), async ({params}) => {
      await auth.nodes.keepAlive(params.name)
      return nodeInfo(await auth.nodes.getNode(params.name))
    }),

    listProxies: guarded({resource: 'proxy', verb: 'list'}, async () => (await auth.proxies.listProxies()).map(proxyInfo)),
    // A proxy on every interface is announced with the address it called from, as a node is.
    upsertProxy: guarded(({params}) => ({resource: 'proxy_presence', verb: 'update', subject: params.name}), async (ctx) => {
      const b = body(ctx)
      const record = {
        name: ctx.params.name,
        hostname: str(b.hostname, 'hostname'),
        addr: announcedAddr(str(b.addr, 'addr'), ctx.identity.remoteAddr),
        publicAddr: announcedAddr(str(b.publicAddr, 'publicAddr'), ctx.identity.remoteAddr),
        version: typeof b.version === 'string' ? b.version : '',
      }
      return proxyInfo(await auth.proxies.upsertProxy(record))
    }),
    keepAliveProxy: guarded(({params}) => ({resource: 'proxy_presence', verb: 'update', subject: params.name}), async ({params}) => proxyInfo(await auth.proxies.keepAlive(params.name))),
    deleteProxy: guarded(({params}) => ({resource: 'proxy_presence', verb: 'delete', subject: params.name}), ({params}) => auth.proxies.deleteProxy(params.name)),

    // Certificates
    signUserCert: guarded({resource: 'cert', verb: 'create'}, (ctx) => {
      const b = body(ctx)
      return auth.issueUserCert({username: str(b.username, 'username'), publicKey: str(b.publicKey, 'publicKey'), ttlMs: optionalNumber(b.ttlMs, 'ttlMs')}, actor(ctx.identity))
    }),
    signHostCert: guarded({resource: 'cert', verb: 'create'}, async (ctx) => {
      const b = body(ctx)
      const principals = strings(b.principals, 'principals')
      if (principals.length === 0) throw new BadParameterError('a host certificate needs at least one name')
      const certificate = await auth.issueOpenSshHostCert({hostId: str(b.hostId, 'hostId'), principals, publicKey: str(b.publicKey, 'publicKey'), ttlMs: optionalNumber(b.ttlMs, 'ttlMs')}, actor(ctx.identity))
      return {certificate, hostCAs: await auth.caKeys('host')}
    }),
    authenticateUser: guarded({resource: 'web_login', verb: 'create'}, (ctx) => {
      const b = body(ctx)
      return auth.login(
        {username: str(b.username, 'username'), password: typeof b.password === 'string' ? b.password : '', otpCode: typeof b.otpCode === 'string' ? b.otpCode : undefined, publicKey: str(b.publicKey, 'publicKey'), ttlMs: optionalNumber(b.ttlMs, 'ttlMs'), clientAddr: typeof b.clientAddr === 'string' ? b.clientAddr : undefined},
        actor(ctx.identity),
      )
    }),

    // Web sessions: the proxy's, for browsers. Ids and tokens are bearer credentials: in bodies only, never logged.
    createWebSession: guarded({resource: 'web_session', verb: 'create'}, (ctx) => {
      const b = body(ctx)
      const password = typeof b.password === 'string' ? b.password : ''
      return auth.createWebSession({username: str(b.username, 'username'), password, otpCode: optionalString(b.otpCode), clientAddr: optionalString(b.clientAddr)}, actor(ctx.identity))
    }),
    authenticateWebSession: guarded({resource: 'web_session', verb: 'read'}, (ctx) => {
      const b = body(ctx)
      return auth.authenticateWebSession(typeof b.id === 'string' ? b.id : '', typeof b.bearerToken === 'string' ? b.bearerToken : '')
    }),
    signWithWebSession: guarded({resource: 'web_session', verb: 'sign'}, async (ctx) => {
      const b = body(ctx)
      const data = str(b.data, 'data')
      if (!BASE64.test(data)) throw new BadParameterError('field "data" must be base64')
      const signature = await auth.signWithWebSession(typeof b.id === 'string' ? b.id : '', Buffer.from(data, 'base64'))
      return {signature: signature.toString('base64')}
    }),
    deleteWebSession: guarded({resource: 'web_session', verb: 'delete'}, (ctx) => auth.deleteWebSession(str(body(ctx).id, 'id'))),

    // Audit log
    emitEvent: guarded((ctx) => ({resource: 'event', verb: 'create', code: str(body(ctx).code, 'code')}), async (ctx) => {
      const b = body(ctx)
      const {event, code, time, uid: _uid, reported_time: _reported, ...fields} = b
      const {at, ...reported} = auth.reportedTime(time)
      // server_id is who reported it, whatever the body says.
      await auth.emit(str(event, 'event') as never, str(code, 'code') as never, {...fields, ...reported, server_id: ctx.identity.kind === 'host' ? ctx.identity.hostId : undefined}, at)
    }),
    searchEvents: guarded({resource: 'event', verb: 'list'}, ({query}) => {
      const from = new Date(query.from ?? '')
      const to = new Date(query.to ?? '')
      if (Number.isNaN(from.getTime()) || Number.isNaN(to.getTime())) throw new BadParameterError('from and to must be ISO 8601 times')
      const types = query.types?.split(',').filter(Boolean)
      const limit = query.limit ? Number(query.limit) : undefined
      const order = query.order === 'desc' ? 'desc' : 'asc'
      const {user, sid, startKey} = query
      return auth.searchEvents({from, to, ...(types ? {types} : {}), ...(limit ? {limit} : {}), order, user, sid, startKey})
    }),

    // Live sessions: written by the node running each (hostId is the caller's, the address as
    // presence fills it), seen by users as their recordings are.
    upsertSessionTracker: guarded(trackerWrite('update'), (ctx) => {
      const hostId = ctx.identity.kind === 'host' ? ctx.identity.hostId : ''
      const update = validateSessionTrackerUpdate(ctx.body)
      // Only a recording proxy holds sessions of other nodes; a node's trackers are its own.
      if (update.serverId !== undefined && !(ctx.identity.kind === 'host' && ctx.identity.role === 'Proxy')) throw new AccessDeniedError('only a recording proxy may write the tracker of a session on another node (serverId)')
      return auth.sessionTrackers.upsert(ctx.params.sid, hostId, {...update, clusterName: auth.clusterName, address: announcedAddr(update.address, ctx.identity.remoteAddr)})
    }),
    removeSessionTracker: guarded(trackerWrite('delete'), ({params, identity}) => auth.sessionTrackers.remove(params.sid, identity.kind === 'host' ? identity.hostId : '')),
    listSessionTrackers: async ({identity}) => {
      const visibility = await trackerVisibility(auth, identity, 'list')
      const trackers = await auth.sessionTrackers.list()
      if (visibility.all) return trackers
      const shown: typeof trackers = []
      for (const tracker of trackers) if (await visibility.visible(tracker)) shown.push(tracker)
      return shown
    },
    getSessionTracker: async ({identity, params}) => {
      checkSessionId(params.sid)
      return visibleTracker(auth, identity, params.sid)
    },

    // Session recordings: uploaded by the node that ran the session, read with `session` read.
    recordingUploaded: guarded(uploadBy, async ({params}) => ({bytes: await auth.recordings.uploadedBytes(params.sid)})),
    appendRecording: guarded(uploadBy, async ({params, query, body}) => {
      const bytes = await auth.recordings.append(params.sid, byteCount(query.offset, 'offset'), body)
      return Readable.from([JSON.stringify({bytes})])
    }),
    completeRecording: guarded(uploadBy, (ctx) => {
      const b = body(ctx)
      const sha256 = b.sha256 === undefined ? undefined : str(b.sha256, 'sha256')
      const size = optionalNumber(b.size, 'size')
      if (size === undefined) throw new BadParameterError('missing field "size"')
      return auth.completeRecording(ctx.params.sid, {size, ...(sha256 ? {sha256} : {})}, ctx.identity.kind === 'host' ? ctx.identity.hostId : '')
    }),
    // Everyone's session.end events to those allowed every session; to a role whose rule has a
    // `where` (access: sessions they took part in), only the sessions it holds for.
    listRecordings: async ({identity, query}) => {
      const access = await sessionAccess(auth, identity, 'list')
      const from = new Date(query.from ?? '')
      const to = new Date(query.to ?? '')
      if (Number.isNaN(from.getTime()) || Number.isNaN(to.getTime())) throw new BadParameterError('from and to must be ISO 8601 times')
      const limit = query.limit ? Number(query.limit) : undefined
      const search = {from, to, types: ['session.end'], ...(limit ? {limit} : {}), order: 'desc' as const, startKey: query.startKey}
      if (access.all) return auth.searchEvents(search)
      return auth.searchEventsWhere(search, (event) => access.decide(sessionParties([event])!).allowed)
    },
    openRecording: async ({identity, params, query}) => {
      checkSessionId(params.sid)
      await authorizeSessionRead(auth, identity, params.sid)
      return auth.recordings.open(params.sid, {from: byteCount(query.from, 'from', 0)})
    },
  })
}
