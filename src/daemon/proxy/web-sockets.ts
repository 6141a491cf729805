import type {IncomingMessage} from 'node:http'
import type {Duplex} from 'node:stream'
import {WebSocketServer, type WebSocket} from 'ws'
import {PLAYER_WS_PATH, TERMINAL_WS_PATH, type TerminalParams} from '../../api/web-ui-routes.js'
import type {Clock} from '../../lib/clock.js'
import type {Logger} from '../../lib/log.js'
import {joinHostPort, plainIp} from '../../lib/net/ip.js'
import type {WebSession} from '../../api/auth-api.js'
import {HttpError, requestHost} from './http-util.js'
import type {NodeRouter} from './node-route.js'
import {runPlayer} from './player-ws.js'
import {securityHeaderLines} from './security-headers.js'
import {parseTerminalParams, runTerminal} from './terminal-ws.js'
import {CLOSE_NOT_AUTHENTICATED, NOT_SIGNED_IN, sessionCookie, type ProxyWebSessions} from './web-sessions-proxy.js'
import {failSocket, pageMessage} from './ws-frames.js'

// The UI's two WebSockets on the web port (docs/WEB.md): the upgrade is refused unless the page
// comes from this proxy's own origin (a WebSocket is not bound by the same-origin policy, and the
// browser sends the cookie with it); then the page's first frame must carry its bearer token,
// checked with the cookie at auth as for every API call. Only then does the terminal or the
// player start, under the web session (sign-out and expiry close it).

/** How long the page has to send its `auth` frame. */
export const AUTH_FRAME_MS = 5_000
const MAX_FRAME_BYTES = 1024 * 1024

export interface WebSocketGatewayOptions {
  sessions: ProxyWebSessions
  clusterName: string
  router: NodeRouter
  /** The cluster's host CAs: nodes are trusted by them. */
  hostCAs(): Promise<string[]>
  clock: Clock
  log: Logger
  hsts: boolean
}

type Target = {kind: 'terminal'; params: TerminalParams} | {kind: 'player'; sid: string}

export class WebSocketGateway {
  private readonly wss = new WebSocketServer({noServer: true, maxPayload: MAX_FRAME_BYTES, perMessageDeflate: false})
  private readonly closing = new AbortController()
  /** Session ids told to terminals of this proxy (terminal-ws.ts). */
  private readonly claimed = new Set<string>()

  constructor(private readonly options: WebSocketGatewayOptions) {}

  /** The https server's 'upgrade': a UI WebSocket, or an HTTP error on the raw socket. */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    socket.on('error', () => {})
    let target: Target
    try {
      target = this.target(req)
    } catch (err) {
      const status = err instanceof HttpError ? err.status : 500
      return refuseUpgrade(socket, status, err instanceof HttpError ? err.message : 'internal error in the proxy', this.options.hsts)
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => void this.serve(ws, req, target))
  }

  /** Ends every socket (the proxy is stopping). */
  close(): void {
    this.closing.abort()
    for (const ws of this.wss.clients) ws.close(1001, 'the proxy is shutting down')
    this.wss.close()
  }

  private target(req: IncomingMessage): Target {
    const url = new URL(req.url ?? '/', 'https://proxy')
    const terminal = TERMINAL_WS_PATH.exec(url.pathname)
    const player = PLAYER_WS_PATH.exec(url.pathname)
    const site = terminal?.[1] ?? player?.[1]
    if (site === undefined) throw new HttpError(404, 'not found')
    if (decodeURIComponent(site) !== this.options.clusterName) throw new HttpError(404, `cluster ${JSON.stringify(site)} is not found`)
    const host = requestHost(req)
    if (!host || req.headers.origin !== `https://${host}`) throw new HttpError(403, 'WebSocket refused: the page is not from this proxy (Origin)')
    if (player) return {kind: 'player', sid: decodeURIComponent(player[2]!)}
    const params = parseTerminalParams(url.searchParams.get('params'))
    if (typeof params === 'string') throw new HttpError(400, params)
    return {kind: 'terminal', params}
  }

  private async serve(ws: WebSocket, req: IncomingMessage, target: Target): Promise<void> {
    ws.on('error', () => {})
    let session: WebSession
    try {
      session = await this.authenticate(ws, sessionCookie(req))
    } catch (err) {
      if (!(err instanceof HttpError)) this.options.log.warn(`web socket authentication: ${(err as Error).message}`)
      return failSocket(ws, err instanceof HttpError ? CLOSE_NOT_AUTHENTICATED : 1011, err instanceof HttpError ? err.message : pageMessage(err))
    }
    const {sessions} = this.options
    const detach = sessions.attach(session, {close: (code, message) => failSocket(ws, code, message)})
    ws.once('close', detach)
    const clientAddr = joinHostPort(plainIp(req.socket.remoteAddress), req.socket.remotePort ?? 0)
    let api
    try {
      api = await sessions.userApi(session)
    } catch (err) {
      this.options.log.warn(`cannot reach the auth server as ${session.user}: ${(err as Error).message}`)
      return failSocket(ws, 1011, pageMessage(err))
    }
    if (target.kind === 'player') return runPlayer({ws, api, sid: target.sid, clock: this.options.clock, log: this.options.log})
    return runTerminal({
      ws,
      session,
      api,
      agent: sessions.agent(session),
      params: target.params,
      router: this.options.router,
      clusterName: this.options.clusterName,
      hostCAs: this.options.hostCAs,
      clientAddr,
      claimed: this.claimed,
      clock: this.options.clock,
      log: this.options.log,
      signal: this.closing.signal,
    })
  }

  /** The first frame: `{"type": "auth", "token"}`, checked with the cookie at auth. Later frames wait (the socket is paused) until the terminal or player reads them. */
  private authenticate(ws: WebSocket, cookie: string | undefined): Promise<WebSession> {
    return new Promise((resolve, reject) => {
      const timer = this.options.clock.setTimer(AUTH_FRAME_MS, () => {
        ws.off('message', first)
        reject(new HttpError(401, 'no authentication frame arrived in time'))
      })
      const first = (data: Buffer, isBinary: boolean) => {
        timer.cancel()
        ws.pause()
        let token: string | undefined
        try {
          const message = isBinary ? undefined : (JSON.parse(data.toString()) as {type?: unknown; token?: unknown})
          if (message?.type === 'auth' && typeof message.token === 'string') token = message.token
        } catch {
          // not JSON: not authenticated
        }
        if (!token) return reject(new HttpError(401, NOT_SIGNED_IN))
        this.options.sessions.authenticate(cookie, token).then(resolve, reject)
      }
      ws.once('message', first)
      ws.once('close', () => timer.cancel())
    })
  }
}

function refuseUpgrade(socket: Duplex, status: number, message: string, hsts: boolean): void {
  const body = JSON.stringify({error: {message}})
  const reason = {400: 'Bad Request', 403: 'Forbidden', 404: 'Not Found'}[status] ?? 'Internal Server Error'
  const head = [`HTTP/1.1 ${status} ${reason}`, 'connection: close', 'content-type: application/json; charset=utf-8', `content-length: ${Buffer.byteLength(body)}`, ...securityHeaderLines({hsts})]
  socket.end(`${head.join('\r\n')}\r\n\r\n${body}`)
}
