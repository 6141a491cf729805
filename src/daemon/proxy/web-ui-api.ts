import type {IncomingMessage, ServerResponse} from 'node:http'
import type {NodeInfo, SessionTracker, WebSession, WebUserAuthApi} from '../../api/auth-api.js'
import type {ParamsOf, ResponseOf, Untrusted} from '../../api/route.js'
import {
  WEB_UI_ROUTES,
  type WebActiveSession,
  type WebContext,
  type WebNode,
  type WebParticipantMode,
  type WebRecording,
  type WebSignInRequest,
  type WebUiRoutes,
} from '../../api/web-ui-routes.js'
import type {AuditEvent} from '../../events/index.js'
import {NotFoundError} from '../../lib/errors.js'
import {productVersion} from '../../lib/version.js'
import {nodeLabels} from '../../services/models/node.js'
import {PARTICIPANT_MODES, trackerNodeId} from '../../services/models/session-tracker.js'
import type {Role} from '../../services/roles.js'
import {checkAccessToNode} from '../../services/rbac.js'
import {checkJoinSession} from '../../services/session-policy.js'
import {expandAll, type Traits} from '../../services/traits.js'
import {HttpError, clientIp, readJsonObject, sendJson} from './http-util.js'
import {getUserToken, redeemUserToken, type UserTokenContext} from './user-token-api.js'
import {clearedSessionCookieHeader, sessionCookieHeader, type ProxyWebSessions} from './web-sessions-proxy.js'

// The web UI's JSON API (WEB_UI_ROUTES in src/api/web-ui-routes.ts). Sign-in and the user-token
// routes are open; every other route needs the session cookie and its bearer token, and reads
// the cluster as the user, through the user's own auth API connection: auth's RBAC decides what
// they see. The proxy only reshapes the answers for the page (and works out, with the same rules
// the node applies, which logins and join modes to offer).

export interface WebUiContext extends UserTokenContext {
  sessions: ProxyWebSessions
  clusterName: string
}

interface Call<R> {
  req: IncomingMessage
  res: ServerResponse
  params: ParamsOf<R>
  query: URLSearchParams
}

type OpenHandler<R> = (ctx: WebUiContext, call: Call<R>) => Promise<ResponseOf<R>>
type SignedInHandler<R> = (ctx: WebUiContext, call: Call<R> & {session: WebSession; api: WebUserAuthApi}) => Promise<ResponseOf<R>>

const OPEN_ROUTES = ['signIn', 'userToken', 'redeemUserToken'] as const
type OpenRoute = (typeof OPEN_ROUTES)[number]
type SignedInRoute = Exclude<keyof WebUiRoutes, OpenRoute>

const OPEN: {[K in OpenRoute]: OpenHandler<WebUiRoutes[K]>} = {
  async signIn(ctx, {req, res}) {
    const body: Untrusted<WebSignInRequest> = await readJsonObject(req)
    if (typeof body.user !== 'string' || body.user === '') throw new HttpError(400, 'missing or invalid field "user"')
    const otp = typeof body.second_factor_token === 'string' ? body.second_factor_token.trim() : ''
    const session = await ctx.sessions.signIn({
      username: body.user,
      password: typeof body.pass === 'string' ? body.pass : '',
      ...(otp ? {otpCode: otp} : {}),
      clientAddr: clientIp(req),
    })
    res.setHeader('set-cookie', sessionCookieHeader(session.id))
    const expiresIn = Math.max(0, Math.floor((Date.parse(session.expires) - Date.parse(session.created)) / 1000))
    return {type: 'Bearer', token: session.bearerToken, expires_in: expiresIn, user: session.user}
  },
  userToken: (ctx, {params}) => getUserToken(ctx, params.token),
  redeemUserToken: (ctx, {req}) => redeemUserToken(ctx, req),
}

const SIGNED_IN: {[K in SignedInRoute]: SignedInHandler<WebUiRoutes[K]>} = {
  async signOut(ctx, {res, session}) {
    await ctx.sessions.signOut(session)
    res.setHeader('set-cookie', clearedSessionCookieHeader())
  },
  async context(ctx, {session}): Promise<WebContext> {
    return {
      user: {name: session.user, roles: session.roles},
      cluster: {name: ctx.clusterName, version: productVersion()},
      session: {expires: session.expires, idle_timeout_ms: session.idleTimeoutMs},
    }
  },
  async nodes(_ctx, {session, api}) {
    const [nodes, access] = await Promise.all([api.listNodes(), userAccess(api, session.user)])
    return {items: nodes.map((node) => webNode(node, access)).sort((a, b) => a.hostname.localeCompare(b.hostname) || a.id.localeCompare(b.id))}
  },
  async activeSessions(_ctx, {session, api}) {
    const trackers = await api.listSessionTrackers()
    const me = await userAccess(api, session.user)
    const owners = new Map<string, Promise<Role[] | undefined>>([[session.user, Promise.resolve(me.roles)]])
    const ownerRoles = (name: string) => {
      if (!owners.has(name)) owners.set(name, userAccess(api, name).then((a) => a.roles, () => undefined))
      return owners.get(name)!
    }
    const items: WebActiveSession[] = []
    for (const tracker of trackers) items.push(webActiveSession(tracker, joinModes(session.user, me.roles, tracker.user, await ownerRoles(tracker.user))))
    return {items}
  },
  async recordings(_ctx, {api, query}) {
    const page = await api.listRecordings({...timeRange(query), ...paging(query)})
    return {items: page.events.map(webRecording), ...(page.nextKey ? {startKey: page.nextKey} : {})}
  },
  async events(_ctx, {api, query}) {
    const include = (query.get('include') ?? '').split(',').map((t) => t.trim()).filter(Boolean)
    const page = await api.searchEvents({...timeRange(query), ...paging(query), order: 'desc', ...(include.length ? {types: include} : {})})
    return {items: page.events as Record<string, unknown>[], ...(page.nextKey ? {startKey: page.nextKey} : {})}
  },
  async changePassword(_ctx, {req, session, api}) {
    const body: Untrusted<{old_password: string; new_password: string; second_factor_token?: string}> = await readJsonObject(req)
    const otp = typeof body.second_factor_token === 'string' ? body.second_factor_token.trim() : ''
    await api.changePassword(session.user, {
      oldPassword: typeof body.old_password === 'string' ? body.old_password : '',
      newPassword: typeof body.new_password === 'string' ? body.new_password : '',
      ...(otp ? {otpCode: otp} : {}),
    })
  },
}

export interface WebUiRoute {
  method: string
  /** The declared path (for logs: request paths may carry tokens). */
  pattern: string
  serve(ctx: WebUiContext, req: IncomingMessage, res: ServerResponse): Promise<void>
}

/** The routes at `path` (sign-in and sign-out share one), by method. */
export function webUiRoutes(path: string): WebUiRoute[] {
  const found: WebUiRoute[] = []
  for (const name of Object.keys(WEB_UI_ROUTES) as (keyof WebUiRoutes)[]) {
    const params = matchPath(WEB_UI_ROUTES[name].path, path)
    if (!params) continue
    const query = new URLSearchParams()
    found.push({
      method: WEB_UI_ROUTES[name].method,
      pattern: WEB_UI_ROUTES[name].path,
      serve: async (ctx, req, res) => {
        for (const [key, value] of new URL(req.url ?? '/', 'https://proxy').searchParams) query.append(key, value)
        if ('site' in params && params.site !== ctx.clusterName) throw new NotFoundError(`cluster ${JSON.stringify(params.site)} is not found (this proxy serves ${JSON.stringify(ctx.clusterName)})`)
        const call = {req, res, params: params as never, query}
        let answer: unknown
        if ((OPEN_ROUTES as readonly string[]).includes(name)) {
          answer = await (OPEN[name as OpenRoute] as OpenHandler<unknown>)(ctx, call)
        } else {
          const session = await ctx.sessions.authenticateRequest(req)
          answer = await (SIGNED_IN[name as SignedInRoute] as SignedInHandler<unknown>)(ctx, {...call, session, api: await ctx.sessions.userApi(session)})
        }
        sendJson(res, 200, answer ?? {})
      },
    })
  }
  return found
}

/** `/v1/webapi/sites/:site/nodes` against a request path: the parameters, or undefined. */
function matchPath(pattern: string, path: string): Record<string, string> | undefined {
  const want = pattern.split('/')
  const got = path.split('/')
  if (want.length !== got.length) return undefined
  const params: Record<string, string> = {}
  for (let i = 0; i < want.length; i++) {
    if (want[i].startsWith(':')) {
      if (got[i] === '') return undefined
      try {
        params[want[i].slice(1)] = decodeURIComponent(got[i])
      } catch {
        return undefined
      }
    } else if (want[i] !== got[i]) return undefined
  }
  return params
}

// ---- what the page is offered ----------------------------------------------------------------

interface UserAccess {
  roles: Role[]
  traits: Traits
}

/** A user's roles as they are now (a role deleted meanwhile is skipped) and traits, read as the web user. */
async function userAccess(api: WebUserAuthApi, name: string): Promise<UserAccess> {
  const user = await api.getUser(name)
  const roles = await Promise.all(user.roles.map((role) => api.getRole(role).catch((err) => (err instanceof NotFoundError ? undefined : Promise.reject(err)))))
  return {roles: roles.filter((r): r is Role => r !== undefined), traits: user.traits}
}

/** The logins the roles allow on this node (the node's own check, for each login any role names). */
export function allowedLogins(access: UserAccess, labels: Record<string, string>): string[] {
  const candidates = new Set(access.roles.flatMap((role) => expandAll(role.spec.allow.logins, access.traits)))
  return [...candidates].filter((login) => checkAccessToNode({roles: access.roles, traits: access.traits, login, nodeLabels: labels}).allowed).sort()
}

function webNode(node: NodeInfo, access: UserAccess): WebNode {
  const labels = nodeLabels(node)
  return {
    id: node.name,
    hostname: node.hostname,
    addr: node.addr,
    labels: Object.keys(labels)
      .sort()
      .map((name) => ({name, value: labels[name]})),
    logins: allowedLogins(access, labels),
  }
}

/**
 * The modes the user may join a session in: their own as peer; others' by join_sessions against
 * the owner's roles. When the owner's roles cannot be read as this user, every mode some policy
 * of theirs names is offered: the node decides with the roles it knows.
 */
export function joinModes(user: string, roles: Role[], owner: string, ownerRoles: Role[] | undefined): WebParticipantMode[] {
  if (ownerRoles) return PARTICIPANT_MODES.filter((mode) => checkJoinSession({joiner: {name: user, roles}, owner: {name: owner, roles: ownerRoles}, mode}).allowed)
  const named = new Set(roles.flatMap((role) => (role.spec.allow.join_sessions ?? []).flatMap((policy) => policy.modes)))
  return PARTICIPANT_MODES.filter((mode) => named.has(mode) || (user === owner && mode === 'peer'))
}

function webActiveSession(tracker: SessionTracker, joinModes: WebParticipantMode[]): WebActiveSession {
  return {
    sid: tracker.sessionId,
    state: tracker.state,
    user: tracker.user,
    login: tracker.login,
    server_id: trackerNodeId(tracker),
    hostname: tracker.hostname,
    addr: tracker.address,
    created: tracker.created,
    participants: tracker.participants.map((p) => ({user: p.user, mode: p.mode})),
    join_modes: joinModes,
  }
}

/** A recording as listed: from its session.end event. */
export function webRecording(event: AuditEvent): WebRecording {
  const text = (key: string) => (typeof event[key] === 'string' ? (event[key] as string) : undefined)
  const start = text('session_start') ?? event.time
  const stop = text('session_stop') ?? event.time
  const login = text('login')
  const hostname = text('server_hostname')
  const serverId = text('server_id')
  return {
    sid: text('sid') ?? '',
    user: text('user') ?? '',
    ...(login ? {login} : {}),
    ...(hostname ? {hostname} : {}),
    ...(serverId ? {server_id: serverId} : {}),
    created: start,
    duration_ms: Math.max(0, Date.parse(stop) - Date.parse(start)) || 0,
    participants: Array.isArray(event.participants) ? event.participants.filter((p): p is string => typeof p === 'string') : [],
    interactive: event.interactive === true,
  }
}

function timeRange(query: URLSearchParams): {from: Date; to: Date} {
  const at = (key: string) => {
    const value = query.get(key)
    const date = value ? new Date(value) : undefined
    if (!date || Number.isNaN(date.getTime())) throw new HttpError(400, `query parameter "${key}" must be an ISO 8601 time`)
    return date
  }
  return {from: at('from'), to: at('to')}
}

function paging(query: URLSearchParams): {limit?: number; startKey?: string} {
  const limit = query.get('limit')
  const startKey = query.get('startKey')
  if (limit !== null && !/^[1-9]\d{0,4}$/.test(limit)) throw new HttpError(400, 'query parameter "limit" must be a number from 1 to 99999')
  return {...(limit !== null ? {limit: Number(limit)} : {}), ...(startKey ? {startKey} : {})}
}
