import type {IncomingMessage} from 'node:http'
import type {BaseAgent} from 'ssh2'
import type {ProxyAuthApi, WebSession, WebUserAuthApi, NewWebSession} from '../../api/auth-api.js'
import {SESSION_COOKIE} from '../../api/web-ui-routes.js'
import {errorKind} from '../../api/wire-errors.js'
import {systemClock, type Clock, type Timer} from '../../lib/clock.js'
import type {Logger} from '../../lib/log.js'
import {HttpError} from './http-util.js'

// Web sessions as the proxy holds them. Auth decides everything (docs/WEB.md "Web sessions"):
// sign-in, each request's cookie + bearer token, sign-out. The proxy keeps, per live session, the
// user's own auth API connection (opened on first use with the session's certificate and an agent
// that signs at auth) and the WebSockets open under it, so sign-out and expiry close them. A
// session idle here past its idle timeout (and with no socket open) loses its connection.

/** How the proxy acts as a web session's user (src/api/web-session-agent.ts and the API client). */
export interface WebSessionConnector {
  /** The user's auth API over an SSH connection authenticated as the web session. */
  openUserApi(session: WebSession): Promise<WebUserAuthApi>
  /** An ssh-agent holding the session's certificate whose sign is signWithWebSession at auth. */
  agent(session: WebSession): BaseAgent
}

/** Something open under a session (a terminal or player WebSocket). */
export interface SessionSocket {
  /** Ends it with a WebSocket close code and a one-line reason. */
  close(code: number, message: string): void
}

export const NOT_SIGNED_IN = 'not signed in, or the web session has expired: sign in again'

/** Closed because the session ended (sign-out, expiry): the page's "not authenticated" code. */
export const CLOSE_NOT_AUTHENTICATED = 4001

interface Live {
  session: WebSession
  api?: Promise<WebUserAuthApi>
  sockets: Set<SessionSocket>
  lastUsed: number
}

export interface ProxyWebSessionsOptions {
  authApi: Pick<ProxyAuthApi, 'createWebSession' | 'authenticateWebSession' | 'deleteWebSession'>
  connector: WebSessionConnector
  clock?: Clock
  log: Logger
  /** How often expired and idle sessions are let go (default 30 s). */
  sweepMs?: number
}

export class ProxyWebSessions {
  private readonly live = new Map<string, Live>()
  private readonly clock: Clock
  private readonly sweeper: Timer

  constructor(private readonly options: ProxyWebSessionsOptions) {
    this.clock = options.clock ?? systemClock
    this.sweeper = this.clock.setRepeating(options.sweepMs ?? 30_000, () => this.sweep(), {unref: true})
  }

  /** Password + second factor at auth; the new session, with its bearer token. */
  async signIn(request: {username: string; password: string; otpCode?: string; clientAddr: string}): Promise<NewWebSession> {
    const session = await this.options.authApi.createWebSession(request)
    this.remember(session)
    return session
  }

  /** The session of a request: its cookie and `Authorization: Bearer`, both; 401 otherwise. */
  authenticateRequest(req: IncomingMessage): Promise<WebSession> {
    return this.authenticate(sessionCookie(req), bearerToken(req))
  }

  /** The session named by a cookie value and a bearer token (a WebSocket's first frame); 401 when auth does not know them. */
  async authenticate(id: string | undefined, token: string | undefined): Promise<WebSession> {
    if (!id || !token) throw new HttpError(401, NOT_SIGNED_IN)
    let session: WebSession
    try {
      session = await this.options.authApi.authenticateWebSession({id, bearerToken: token})
    } catch (err) {
      const kind = errorKind(err)
      // Auth unreachable (or failing) is not the user's fault: the caller answers 503.
      if (kind === 'user' || kind === 'internal' || kind === 'limit-exceeded') throw err
      // Auth no longer has it. A wrong token does not end it here (anyone with the cookie alone could).
      if (kind === 'not-found') this.forget(id, 'the web session has ended')
      throw new HttpError(401, NOT_SIGNED_IN)
    }
    this.remember(session)
    return session
  }

  /** The user's auth API for this session, opened on first use and kept while the session lives. */
  userApi(session: WebSession): Promise<WebUserAuthApi> {
    const live = this.remember(session)
    if (!live.api) {
      const opening = this.options.connector.openUserApi(session)
      live.api = opening
      // A failed open is not kept: the next call tries again.
      opening.catch(() => {
        if (live.api === opening) live.api = undefined
      })
    }
    return live.api
  }

  agent(session: WebSession): BaseAgent {
    return this.options.connector.agent(session)
  }

  /** Registers a socket open under the session; the function returned unregisters it. */
  attach(session: WebSession, socket: SessionSocket): () => void {
    const live = this.remember(session)
    live.sockets.add(socket)
    return () => {
      live.sockets.delete(socket)
      live.lastUsed = this.clock.now().getTime()
    }
  }

  /** Sign-out: auth forgets the session and its key; its sockets and connection close here. */
  async signOut(session: WebSession): Promise<void> {
    await this.options.authApi.deleteWebSession({id: session.id})
    this.forget(session.id, 'signed out')
  }

  async close(): Promise<void> {
    this.sweeper.cancel()
    for (const id of [...this.live.keys()]) this.forget(id, 'the proxy is shutting down')
  }

  private remember(session: WebSession): Live {
    let live = this.live.get(session.id)
    if (!live) {
      live = {session, sockets: new Set(), lastUsed: 0}
      this.live.set(session.id, live)
    }
    live.session = session
    live.lastUsed = this.clock.now().getTime()
    return live
  }

  private forget(id: string, why: string): void {
    const live = this.live.get(id)
    if (!live) return
    this.live.delete(id)
    for (const socket of [...live.sockets]) socket.close(CLOSE_NOT_AUTHENTICATED, why)
    void live.api
      ?.then((api) => api.close())
      .catch((err: Error) => this.options.log.debug(`closing a web session's auth connection: ${err.message}`))
  }

  private sweep(): void {
    const now = this.clock.now().getTime()
    for (const [id, live] of this.live) {
      if (Date.parse(live.session.expires) <= now) this.forget(id, 'the web session has expired')
      else if (live.sockets.size === 0 && now - live.lastUsed >= live.session.idleTimeoutMs) this.forget(id, 'the web session is idle')
    }
  }
}

/** The `__Host-session` cookie's value. */
export function sessionCookie(req: IncomingMessage): string | undefined {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const eq = part.indexOf('=')
    if (eq > 0 && part.slice(0, eq).trim() === SESSION_COOKIE) return part.slice(eq + 1).trim() || undefined
  }
  return undefined
}

function bearerToken(req: IncomingMessage): string | undefined {
  const match = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '')
  return match?.[1]
}

/** Set-Cookie for a new session: host-only, HTTPS-only, never readable by scripts nor sent cross-site. */
export function sessionCookieHeader(id: string): string {
  return `${SESSION_COOKIE}=${id}; Path=/; Secure; HttpOnly; SameSite=Strict`
}

export function clearedSessionCookieHeader(): string {
  return `${SESSION_COOKIE}=; Path=/; Secure; HttpOnly; SameSite=Strict; Max-Age=0`
}
