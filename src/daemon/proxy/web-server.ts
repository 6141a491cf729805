import {X509Certificate} from 'node:crypto'
import type {IncomingMessage, ServerResponse} from 'node:http'
import https from 'node:https'
import tls from 'node:tls'
import type {Logger} from '../../lib/log.js'
import {HttpError, sendHtml, sendJsonError} from './http-util.js'
import {PAGE_CSP, renderMessagePage} from './user-token-html.js'
import {handleUserTokenPage, type UserTokenPageContext} from './user-token-pages.js'
import {handleHostCredentials, handlePing, handleSshCerts, sendAuthError, type WebApiContext} from './web-api.js'
import type {WebKeyPair} from './web-certificate.js'

// The proxy's HTTPS listener: the web API under /v1/webapi and the invite/reset pages under
// /web. Everything else is a JSON 404. Request paths are never logged (they carry tokens).

export interface WebServerOptions {
  /** The first is the default; with several, the client's SNI name picks the one that names it. */
  keyPairs: WebKeyPair[]
  api: WebApiContext
  pages: UserTokenPageContext
  log: Logger
}

type Handler = (req: IncomingMessage, res: ServerResponse) => Promise<void>

export function createWebServer(options: WebServerOptions): https.Server {
  const [first, ...others] = options.keyPairs
  const contexts = others.map((pair) => ({x509: new X509Certificate(pair.cert), context: tls.createSecureContext({key: pair.key, cert: pair.cert})}))
  const server = https.createServer(
    {
      key: first.key,
      cert: first.cert,
      minVersion: 'TLSv1.2',
      ...(contexts.length
        ? {
            SNICallback: (name: string, callback: (err: Error | null, ctx?: tls.SecureContext) => void) =>
              callback(null, contexts.find((c) => c.x509.checkHost(name) !== undefined)?.context),
          }
        : {}),
    },
    (req, res) => void dispatch(options, req, res),
  )
  server.headersTimeout = 30_000
  server.requestTimeout = 60_000
  server.on('tlsClientError', () => {}) // scanners and clients that distrust the self-signed certificate
  return server
}

const USER_TOKEN_PATH = /^\/web\/(invite|reset)\/([^/]+)$/

async function dispatch(options: WebServerOptions, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const path = (req.url ?? '/').split('?')[0]
  const method = req.method ?? 'GET'
  const api = (handler: (ctx: WebApiContext, req: IncomingMessage, res: ServerResponse) => Promise<void>, allowed: string): Handler | 'method' =>
    method === allowed ? (q, s) => handler(options.api, q, s) : 'method'

  let handler: Handler | 'method' | undefined
  if (path === '/v1/webapi/ping') handler = api(handlePing, 'GET')
  else if (path === '/v1/webapi/ssh/certs') handler = api(handleSshCerts, 'POST')
  else if (path === '/v1/webapi/host/credentials') handler = api(handleHostCredentials, 'POST')
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
    res.setHeader('allow', path.startsWith('/web/') ? 'GET, POST' : path.endsWith('/ping') ? 'GET' : 'POST')
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
