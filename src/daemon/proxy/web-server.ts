import {X509Certificate} from 'node:crypto'
import type {IncomingMessage, ServerResponse} from 'node:http'
import https from 'node:https'
import tls from 'node:tls'
import type {Logger} from '../../lib/log.js'
import type {ConnectionHandler, Endpoint} from '../../lib/net/connection.js'
import {plainIp} from '../../lib/net/ip.js'
import {StartupLimiter, type StartupLimits} from '../../lib/net/startup-limiter.js'
import {listenTcp, type TcpListener} from '../../lib/net/tcp-listener.js'
import {HttpError, sendHtml, sendJsonError} from './http-util.js'
import {PAGE_CSP, renderMessagePage} from './user-token-html.js'
import {handleUserTokenPage, type UserTokenPageContext} from './user-token-pages.js'
import {sendAuthError, webApiRoute, type WebApiContext} from './web-api.js'
import type {WebKeyPair} from './web-certificate.js'

// The proxy's HTTPS server, on the connections handed to it (listen() hands in those of the web
// port): the web API under /v1/webapi and the invite/reset pages under /web. Everything else is
// a JSON 404. Request paths are never logged (they carry tokens).

export interface WebServerOptions {
  /** The first is the default; with several, the client's SNI name picks the one that names it. */
  keyPairs: WebKeyPair[]
  /** Send Strict-Transport-Security (only with a certificate browsers can verify). */
  hsts: boolean
  timeouts?: Partial<WebTimeouts>
  /** Caps on connections that have not sent a request yet; the deadline defaults to handshake + headers. */
  startupLimits?: Partial<StartupLimits>
  api: WebApiContext
  pages: UserTokenPageContext
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

const HSTS = 'max-age=31536000; includeSubDomains'

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
      ...(contexts.length
        ? {
            SNICallback: (name: string, callback: (err: Error | null, ctx?: tls.SecureContext) => void) =>
              callback(null, contexts.find((c) => c.x509.checkHost(name) !== undefined)?.context),
          }
        : {}),
    },
    (req, res) => {
      startups.authenticated(rawSocket(req))
      if (options.hsts) res.setHeader('strict-transport-security', HSTS)
      void dispatch(options, req, res)
    },
  )
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
      if (startups.admit(conn.stream, plainIp(conn.remote.host))) server.emit('connection', conn.stream)
    },
    async listen(host, port) {
      listener = await listenTcp({host, port}, this, (err) => options.log.error(`web proxy listener: ${err.message}`))
      return listener.address
    },
    async close() {
      const closed = listener?.close()
      server.close()
      server.closeAllConnections()
      await closed
    },
  }
}

/** The TCP socket under a request's TLS socket (the one 'connection' gave us). */
function rawSocket(req: IncomingMessage): object {
  return (req.socket as unknown as {_parent?: object})._parent ?? req.socket
}

const USER_TOKEN_PATH = /^\/web\/(invite|reset)\/([^/]+)$/

async function dispatch(options: WebServerOptions, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const path = (req.url ?? '/').split('?')[0]
  const method = req.method ?? 'GET'
  let handler: Handler | 'method' | undefined
  const route = webApiRoute(path)
  if (route) handler = method === route.method ? (q, s) => route.serve(options.api, q, s) : 'method'
  else {
    const page = USER_TOKEN_PATH.exec(path)
    if (page) {
      const [, kind, token] = page
      if (method !== 'GET' && method !== 'POST') handler = 'method'
      else return servePage(options, req, res, () => handleUserTokenPage(options.pages, kind as 'invite' | 'reset', token, req, res))
    }
  }
  if (handler === undefined) return sendJsonError(res, 404, 'not found')
  if (handler === 'method') {
    res.setHeader('allow', route?.method ?? 'GET, POST')
    return sendJsonError(res, 405, `method ${method} not allowed`)
  }
  try {
    await handler(req, res)
  } catch (err) {
    if (!res.headersSent) sendAuthError(res, err, options.log, `${method} ${path}`)
    else res.destroy()
  }
}

async function servePage(options: WebServerOptions, req: IncomingMessage, res: ServerResponse, serve: () => Promise<void>): Promise<void> {
  try {
    await serve()
  } catch (err) {
    if (res.headersSent) return void res.destroy()
    if (err instanceof HttpError) return sendHtml(res, err.status, renderMessagePage('Request refused', err.message), PAGE_CSP)
    options.log.warn(`${req.method} /web/${req.url?.split('/')[2] ?? ''}/...: ${(err as Error).message}`)
    sendHtml(res, 503, renderMessagePage('Service unavailable', 'The cluster cannot handle this request right now. Please try again in a moment.'), PAGE_CSP)
  }
}
