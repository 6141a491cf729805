import {X509Certificate} from 'node:crypto'
import type {IncomingMessage, ServerResponse} from 'node:http'
import https from 'node:https'
import tls from 'node:tls'
import type {Logger} from '../../lib/log.js'
import type {ConnectionHandler, Endpoint} from '../../lib/net/connection.js'
import {plainIp} from '../../lib/net/ip.js'
import {StartupLimiter, type StartupLimits} from '../../lib/net/startup-limiter.js'
import {listenTcp, type TcpListener} from '../../lib/net/tcp-listener.js'
import {sendJsonError} from './http-util.js'
import {setSecurityHeaders} from './security-headers.js'
import {StaticFiles, WEB_ASSET_PREFIX, WEB_PAGE_PATH} from './static-files.js'
import {sendAuthError, webApiRoute, type WebApiContext} from './web-api.js'
import type {WebKeyPair} from './web-certificate.js'
import type {WebSocketGateway} from './web-sockets.js'
import {webUiRoutes, type WebUiContext} from './web-ui-api.js'

// The proxy's HTTPS server, on the connections handed to it (listen() hands in those of the web
// port): the web API under /v1/webapi (tsh's and hosts' routes, and the UI's), the UI's
// WebSockets, and the browser app under /web. Everything else is a JSON 404. Request paths are
// never logged (they carry tokens).

export interface WebServerOptions {
  /** The first is the default; with several, the client's SNI name picks the one that names it. */
  keyPairs: WebKeyPair[]
  /** Send Strict-Transport-Security (only with a certificate browsers can verify). */
  hsts: boolean
  timeouts?: Partial<WebTimeouts>
  /** Caps on connections that have not sent a request yet; the deadline defaults to handshake + headers. */
  startupLimits?: Partial<StartupLimits>
  api: WebApiContext
  ui: WebUiContext
  /** The terminal and player WebSockets. */
  sockets: WebSocketGateway
  /** The built browser app (dist/web). */
  staticFiles: StaticFiles
  /**
   * Protocols other than HTTP on this port, by ALPN name: each gets the TLS socket once its
   * handshake is done. With any, clients are asked for a certificate (optional: browsers send none).
   */
  alpnHandlers?: Record<string, (socket: tls.TLSSocket, remote: Endpoint) => void>
  log: Logger
}

export interface WebTimeouts {
  /** TLS handshake. */
  handshakeMs: number
  /** From connection (or the previous request) to the end of the headers. */
  headersMs: number
  /** The whole request, body included. */
  requestMs: number
  /** An idle keep-alive connection between requests. */
  keepAliveMs: number
  /** A connection that moves no bytes (a client not reading its answer). */
  idleMs: number
}

/** Teleport's web server reads headers within 10 s; our request bodies are at most 64 KiB. */
export const DEFAULT_WEB_TIMEOUTS: WebTimeouts = {handshakeMs: 10_000, headersMs: 10_000, requestMs: 30_000, keepAliveMs: 5_000, idleMs: 60_000}

/**
 * TLS 1.2 with forward secrecy and AEAD only (Teleport's list: no CBC, no SHA-1 MACs, no static
 * RSA key exchange); TLS 1.3's suites are all AEAD.
 */
export const TLS_CIPHERS = [
  'TLS_AES_128_GCM_SHA256',
  'TLS_AES_256_GCM_SHA384',
  'TLS_CHACHA20_POLY1305_SHA256',
  'ECDHE-ECDSA-AES128-GCM-SHA256',
  'ECDHE-RSA-AES128-GCM-SHA256',
  'ECDHE-ECDSA-AES256-GCM-SHA384',
  'ECDHE-RSA-AES256-GCM-SHA384',
  'ECDHE-ECDSA-CHACHA20-POLY1305',
  'ECDHE-RSA-CHACHA20-POLY1305',
].join(':')

type Handler = (req: IncomingMessage, res: ServerResponse) => Promise<void>

export interface WebServer extends ConnectionHandler {
  /** Accepts connections on host:port and hands them in; port 0 picks a free port. */
  listen(host: string, port: number): Promise<Endpoint>
  /** Stops listening and ends every connection. */
  close(): Promise<void>
}

export function createWebServer(options: WebServerOptions): WebServer {
  const [first, ...others] = options.keyPairs
  const timeouts = {...DEFAULT_WEB_TIMEOUTS, ...options.timeouts}
  // A connection counts as pending (per source, in total) from accept to its first request.
  const startups = new StartupLimiter('web proxy', options.log, {graceMs: timeouts.handshakeMs + timeouts.headersMs, ...options.startupLimits})
  const alpnHandlers = options.alpnHandlers ?? {}
  const alpnNames = Object.keys(alpnHandlers)
  const contexts = others.map((pair) => ({x509: new X509Certificate(pair.cert), context: tls.createSecureContext({key: pair.key, cert: pair.cert})}))
  const server = https.createServer(
    {
      key: first.key,
      cert: first.cert,
      minVersion: 'TLSv1.2',
      ciphers: TLS_CIPHERS,
      honorCipherOrder: true,
      handshakeTimeout: timeouts.handshakeMs,
      // How often request deadlines are checked: a body trickled in must not outlive requestMs by much.
      connectionsCheckingInterval: 1_000,
      // HTTP unless the client asks for another protocol we serve; a client certificate is
      // asked for but not required (the protocol's handler checks it).
      ...(alpnNames.length ? {ALPNProtocols: ['http/1.1', ...alpnNames], requestCert: true, rejectUnauthorized: false} : {}),
      ...(contexts.length
        ? {
            SNICallback: (name: string, callback: (err: Error | null, ctx?: tls.SecureContext) => void) =>
              callback(null, contexts.find((c) => c.x509.checkHost(name) !== undefined)?.context),
          }
        : {}),
    },
    (req, res) => {
      startups.authenticated(rawSocket(req))
      setSecurityHeaders(res, {hsts: options.hsts})
      void dispatch(options, req, res)
    },
  )
  server.on('upgrade', (req: IncomingMessage, socket, head: Buffer) => {
    startups.authenticated(rawSocket(req))
    options.sockets.handleUpgrade(req, socket, head)
  })
  // Other protocols by ALPN take their sockets before the HTTP server sees them.
  const remotes = new WeakMap<object, Endpoint>()
  if (alpnNames.length) {
    const [http] = server.listeners('secureConnection') as Array<(socket: tls.TLSSocket) => void>
    server.removeAllListeners('secureConnection')
    server.on('secureConnection', (socket: tls.TLSSocket) => {
      const handler = socket.alpnProtocol ? alpnHandlers[socket.alpnProtocol] : undefined
      if (!handler) return http!.call(server, socket)
      const raw = rawSocketOf(socket)
      startups.authenticated(raw)
      handler(socket, remotes.get(raw) ?? {host: socket.remoteAddress ?? '', port: socket.remotePort ?? 0})
    })
  }
  server.headersTimeout = timeouts.headersMs
  server.requestTimeout = timeouts.requestMs
  server.keepAliveTimeout = timeouts.keepAliveMs
  server.setTimeout(timeouts.idleMs)
  server.on('tlsClientError', () => {}) // scanners and clients that distrust the self-signed certificate
  // node's http server tracks its connections (request deadlines, closeAllConnections) from its
  // 'listening' event on; this one never listens itself, it is handed connections.
  server.emit('listening')
  let listener: TcpListener | undefined
  return {
    handle(conn) {
      remotes.set(conn.stream, conn.remote)
      startups.admit(conn.stream, plainIp(conn.remote.host), () => server.emit('connection', conn.stream))
    },
    async listen(host, port) {
      listener = await listenTcp({host, port}, this, (err) => options.log.error(`web proxy listener: ${err.message}`))
      return listener.address
    },
    async close() {
      const closed = listener?.close()
      options.sockets.close()
      server.close()
      server.closeAllConnections()
      await closed
    },
  }
}

/** The TCP socket under a request's TLS socket (the one 'connection' gave us). */
function rawSocket(req: IncomingMessage): object {
  return rawSocketOf(req.socket)
}

function rawSocketOf(socket: object): object {
  return (socket as {_parent?: object})._parent ?? socket
}

async function dispatch(options: WebServerOptions, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const path = (req.url ?? '/').split('?')[0]
  const method = req.method ?? 'GET'
  let handler: Handler | undefined
  let allowed: string[] = []
  let what = path
  const route = webApiRoute(path)
  if (route) {
    allowed = [route.method]
    if (method === route.method) handler = (q, s) => route.serve(options.api, q, s)
  } else if (path.startsWith('/v1/webapi/')) {
    const routes = webUiRoutes(path)
    allowed = routes.map((r) => r.method)
    const chosen = routes.find((r) => r.method === method)
    if (chosen) handler = (q, s) => chosen.serve(options.ui, q, s)
    if (chosen) what = chosen.pattern
  } else if (path.startsWith(WEB_ASSET_PREFIX) || WEB_PAGE_PATH.test(path)) {
    allowed = ['GET', 'HEAD']
    if (method === 'GET' || method === 'HEAD') handler = path.startsWith(WEB_ASSET_PREFIX) ? (q, s) => options.staticFiles.serveAsset(q, s, path) : (q, s) => options.staticFiles.serveIndex(q, s)
  }
  if (allowed.length === 0) return sendJsonError(res, 404, 'not found')
  if (!handler) {
    res.setHeader('allow', allowed.join(', '))
    return sendJsonError(res, 405, `method ${method} not allowed`)
  }
  try {
    await handler(req, res)
  } catch (err) {
    if (!res.headersSent) sendAuthError(res, err, options.log, `${method} ${path.startsWith('/web/') ? '/web/...' : what}`)
    else res.destroy()
  }
}
