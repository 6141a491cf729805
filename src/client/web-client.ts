import {readFileSync} from 'node:fs'
import {isIP} from 'node:net'
import tls from 'node:tls'
import {Agent, fetch, type Dispatcher} from 'undici'
import type {BodyOf, JsonRoute, ResponseOf} from '../api/route.js'
import {WEB_ROUTES, type SshCertsRequest, type SshCertsResponse, type WebPing} from '../api/web-routes.js'
import {AccessDeniedError, BadParameterError, LimitExceededError, UserError} from '../lib/errors.js'
import {DEFAULT_SSH_PROXY_PORT, formatHostPort, parseHostPort} from './proxy-addr.js'

// The proxy's web API (WEB_ROUTES) as tsh uses it: ping (what the cluster is, how to log in)
// and the password + OTP login that turns a public key into a certificate. HTTPS, verified
// against the system's trust store unless --insecure; a refusal from the proxy becomes one line.

export type {SshCertsRequest, SshCertsResponse, WebPing} from '../api/web-routes.js'

export const DEFAULT_TIMEOUT_MS = 30_000

/** PEM certificates trusted for the proxy: node's bundle, the OS bundle, $SSL_CERT_FILE, $NODE_EXTRA_CA_CERTS. */
export function systemTrust(env: NodeJS.ProcessEnv = process.env): string[] {
  const cas = [...tls.rootCertificates]
  const files = [env.SSL_CERT_FILE || '/etc/ssl/certs/ca-certificates.crt', env.NODE_EXTRA_CA_CERTS]
  for (const file of files) {
    if (!file) continue
    try {
      cas.push(...(readFileSync(file, 'utf8').match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? []))
    } catch {
      // a missing bundle just trusts less
    }
  }
  return cas
}

/** The certificate the proxy presents (PEM), read without trusting it: for pinning after a login. */
export function fetchProxyCertificate(proxyAddr: string, timeoutMs = DEFAULT_TIMEOUT_MS): Promise<string> {
  const {host, port} = parseHostPort(proxyAddr, 3080)
  return new Promise((resolve, reject) => {
    const socket = tls.connect({host, port, servername: isIP(host) ? undefined : host, rejectUnauthorized: false, timeout: timeoutMs}, () => {
      const cert = socket.getPeerX509Certificate()
      socket.destroy()
      if (cert) resolve(cert.toString())
      else reject(new UserError(`the proxy at ${proxyAddr} presented no certificate`))
    })
    socket.once('timeout', () => socket.destroy(new Error('timed out')))
    socket.once('error', reject)
  })
}

/** TLS failures that mean "this certificate is not trusted", by node's error codes. */
const UNTRUSTED_CODES = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_UNTRUSTED',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'ERR_TLS_CERT_ALTNAME_INVALID',
])

function rootCause(err: unknown): {code?: string; message: string} {
  let e = err as {code?: string; message?: string; cause?: unknown} | undefined
  while (e && typeof e === 'object' && e.cause && typeof e.cause === 'object') e = e.cause as typeof e
  return {code: e?.code, message: e?.message ?? String(err)}
}

/** One line for a failure to reach the proxy at all. */
export function describeConnectError(err: unknown, url: string): UserError {
  const {code, message} = rootCause(err)
  if (code && UNTRUSTED_CODES.has(code)) {
    return new UserError(`the proxy's HTTPS certificate is not trusted (${url}): ${message}`, {
      hint: 'if the proxy uses a self-signed certificate and you trust it, run tsh login with --insecure (not for production)',
    })
  }
  if (code === 'ECONNREFUSED') return new UserError(`cannot connect to the proxy at ${url}: connection refused`, {hint: 'check --proxy (host:port of the proxy web address, port 3080 by default)'})
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return new UserError(`cannot resolve the proxy host in ${url}`, {hint: 'check --proxy'})
  if (code === 'UND_ERR_CONNECT_TIMEOUT' || code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'ETIMEDOUT') return new UserError(`the proxy at ${url} did not answer in time`)
  if (code === 'EPROTO' || /wrong version number|packet length too long/i.test(message)) {
    return new UserError(`the proxy at ${url} does not speak HTTPS`, {hint: 'is --proxy the web address (port 3080 by default), not the SSH port?'})
  }
  return new UserError(`cannot reach the proxy at ${url}: ${message}`)
}

export interface WebClientOptions {
  /** host:port of the proxy's web endpoint. */
  proxyAddr: string
  insecure?: boolean
  timeoutMs?: number
  /** Trusted CA certificates (PEM); default systemTrust(). */
  ca?: string[]
  /** Sent on every call (the config file's extra_headers for this proxy). */
  headers?: Record<string, string>
}

export class WebClient {
  readonly baseUrl: string
  private readonly dispatcher: Agent
  private readonly extraHeaders: Record<string, string>

  constructor(opts: WebClientOptions) {
    this.extraHeaders = opts.headers ?? {}
    this.baseUrl = `https://${formatHostPort(parseHostPort(opts.proxyAddr, 3080))}`
    const timeout = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS
    this.dispatcher = new Agent({
      connect: opts.insecure ? {rejectUnauthorized: false, timeout} : {rejectUnauthorized: true, ca: opts.ca ?? systemTrust(), timeout},
      headersTimeout: timeout,
      bodyTimeout: timeout,
    })
  }

  /** The route's answer, unchecked: callers check the fields they read. */
  private async call<R extends JsonRoute>(route: R, body?: BodyOf<R>): Promise<ResponseOf<R> | undefined> {
    const {method, path} = route
    const url = this.baseUrl + path
    let res: Awaited<ReturnType<typeof fetch>>
    try {
      res = await fetch(url, {
        method,
        dispatcher: this.dispatcher as Dispatcher,
        headers: {...this.extraHeaders, accept: 'application/json', ...(body !== undefined ? {'content-type': 'application/json'} : {})},
        ...(body !== undefined ? {body: JSON.stringify(body)} : {}),
      })
    } catch (err) {
      throw describeConnectError(err, this.baseUrl)
    }
    const text = await res.text()
    let parsed: unknown
    try {
      parsed = text ? JSON.parse(text) : undefined
    } catch {
      throw new UserError(`the proxy at ${this.baseUrl} answered ${path} with HTTP ${res.status} and no JSON`, {hint: 'is --proxy a Teleport proxy web address?'})
    }
    if (!res.ok) {
      const message = proxyErrorMessage(parsed) ?? `HTTP ${res.status}`
      if (res.status === 401 || res.status === 403) throw new AccessDeniedError(message)
      if (res.status === 400) throw new BadParameterError(message)
      if (res.status === 429) throw new LimitExceededError(message)
      if (res.status === 404) throw new UserError(`the proxy at ${this.baseUrl} has no ${path}: ${message}`, {hint: 'is --proxy a Teleport proxy web address?'})
      throw new UserError(`the proxy answered HTTP ${res.status}: ${message}`)
    }
    return parsed as ResponseOf<R> | undefined
  }

  /** The cluster's host CA keys as the proxy says them now (both during a host CA rotation). */
  async hostCAs(): Promise<string[]> {
    const answer = await this.call(WEB_ROUTES.hostCAs)
    const keys = answer?.host_ca_keys
    if (!Array.isArray(keys) || !keys.every((k) => typeof k === 'string' && /^ssh-[a-z0-9-]+ [A-Za-z0-9+/=]+/.test(k))) {
      throw new UserError(`the proxy at ${this.baseUrl} answered ${WEB_ROUTES.hostCAs.path} without host CA keys`)
    }
    return keys
  }

  async ping(): Promise<WebPing> {
    return checkPing(await this.call(WEB_ROUTES.ping), this.baseUrl)
  }

  async createSshCert(request: SshCertsRequest): Promise<SshCertsResponse> {
    const res = await this.call(WEB_ROUTES.sshCerts, request)
    if (!res || typeof res.cert !== 'string' || !Array.isArray(res.host_signers)) throw new UserError('the proxy answered the login without a certificate')
    return res
  }

  async close(): Promise<void> {
    await this.dispatcher.close()
  }
}

/** A ping answer with the fields tsh reads, of the types it reads them as; else a UserError. */
export function checkPing(body: unknown, baseUrl: string): WebPing {
  const ping = body as WebPing | undefined
  const ssh = ping?.proxy?.ssh as Record<string, unknown> | undefined
  const optionalText = (v: unknown) => v === undefined || v === null || typeof v === 'string'
  if (!ping || typeof ping !== 'object' || typeof ping.cluster_name !== 'string' || !ping.auth || !ssh || typeof ssh !== 'object' || !optionalText(ssh.listen_addr) || !optionalText(ssh.public_addr)) {
    throw new UserError(`the proxy at ${baseUrl} answered ping without the expected fields`, {hint: 'is --proxy a Teleport proxy web address?'})
  }
  return ping
}

/** {error: {message}} (ours and Teleport's), or {message}. */
function proxyErrorMessage(body: unknown): string | undefined {
  const b = body as {error?: {message?: unknown} | string; message?: unknown} | undefined
  const m = typeof b?.error === 'string' ? b.error : typeof b?.error?.message === 'string' ? b.error.message : typeof b?.message === 'string' ? b.message : undefined
  return m?.split('\n')[0]
}

/**
 * Where to reach the proxy's SSH port: its public address, else the listen port on the host
 * the web address used (a listen address of 0.0.0.0 means "every interface", not a place).
 */
export function sshProxyAddrFromPing(ping: WebPing, webProxyAddr: string): string {
  const web = parseHostPort(webProxyAddr, 3080)
  const ssh = ping.proxy.ssh
  if (ssh.public_addr) return formatHostPort(parseHostPort(ssh.public_addr, DEFAULT_SSH_PROXY_PORT, 'proxy SSH address'))
  const port = ssh.listen_addr ? parseHostPort(ssh.listen_addr, DEFAULT_SSH_PROXY_PORT, 'proxy SSH address').port : DEFAULT_SSH_PROXY_PORT
  return formatHostPort({host: web.host, port})
}
