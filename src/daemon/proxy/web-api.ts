import type {IncomingMessage, ServerResponse} from 'node:http'
import type {ProxyAuthApi} from '../../api/auth-api.js'
import type {ResponseOf, Untrusted} from '../../api/route.js'
import {WEB_ROUTES, type HostCredentials, type HostCredentialsRequest, type SshCertsRequest, type SshCertsResponse, type WebPing, type WebRoutes} from '../../api/web-routes.js'
import {errorKind, statusOfKind, toWireError} from '../../api/wire-errors.js'
import type {Logger} from '../../lib/log.js'
import {HttpError, clientIp, readJsonObject, sendJson, sendJsonError} from './http-util.js'

// The web API tsh and joining hosts use (WEB_ROUTES in src/api/web-routes.ts). Every decision
// is the auth server's: the proxy forwards the request with the client's address and passes the
// auth server's one-line refusal back. Passwords, codes and tokens are never logged.

export interface WebApiContext {
  authApi: Pick<ProxyAuthApi, 'ping' | 'getCAKeys' | 'authenticateUser' | 'register'>
  log: Logger
  /** `proxy.ssh.listen_addr` and `public_addr` for this request (the latter may follow its Host), and the reverse tunnel's pair when served. */
  sshAddresses(req: IncomingMessage): {listenAddr: string; publicAddr: string; tunnel?: {listenAddr: string; publicAddr: string}}
  /** The TLS relay's ALPN name, when the web port serves it (tls-relay.ts). */
  sshRelayAlpn?: string
  /** proxy_listener_mode multiplex: SSH is on the web port too (by ALPN). */
  tlsRoutingEnabled?: boolean
}

/**
 * The HTTP status for an error from the auth API (or from reaching it): the wire map, except that
 * a plain UserError here means the auth server is unreachable (or said so in a sentence): 503.
 */
export function statusOfAuthError(err: unknown): number {
  if (err instanceof HttpError) return err.status
  const kind = errorKind(err)
  return kind === 'user' ? 503 : statusOfKind(kind)
}

/**
 * Answers an error as `{error: {message, kind, hint?}}` (kind and hint as on the auth API, so
 * clients can rebuild the same error class); unexpected errors are logged, not described.
 */
export function sendAuthError(res: ServerResponse, err: unknown, log: Logger, what: string): void {
  const status = statusOfAuthError(err)
  if (status >= 500) log.warn(`${what}: ${(err as Error).message}`)
  if (status === 500) return sendJsonError(res, 500, 'internal error in the proxy (see its log)')
  if (err instanceof HttpError) return sendJson(res, status, {error: {kind: status === 400 ? 'bad-parameter' : 'user', message: err.message}})
  const wire = toWireError(err).body.error
  sendJson(res, status, {error: {message: wire.message, kind: wire.kind, ...(wire.hint ? {hint: wire.hint} : {})}})
}

export async function handlePing(ctx: WebApiContext, req: IncomingMessage): Promise<WebPing> {
  const ping = await ctx.authApi.ping()
  const ssh = ctx.sshAddresses(req)
  return {
    auth: {type: 'local', second_factor: ping.secondFactor},
    proxy: {
      ssh: {listen_addr: ssh.listenAddr, public_addr: ssh.publicAddr, ...(ssh.tunnel ? {tunnel_listen_addr: ssh.tunnel.listenAddr, ssh_tunnel_public_addr: ssh.tunnel.publicAddr} : {})},
      ...(ctx.sshRelayAlpn ? {ssh_relay_alpn: ctx.sshRelayAlpn} : {}),
      ...(ctx.tlsRoutingEnabled ? {tls_routing_enabled: true} : {}),
      ...(ping.sessionRecording === 'proxy' || ping.sessionRecording === 'proxy-sync' ? {recording_proxy: true} : {}),
    },
    server_version: ping.serverVersion,
    cluster_name: ping.clusterName,
    ca_pins: ping.caPins,
  }
}

/** `tsh login`: password (+ OTP) for a certificate on the client's public key. */
export async function handleSshCerts(ctx: WebApiContext, req: IncomingMessage): Promise<SshCertsResponse> {
  const body: Untrusted<SshCertsRequest> = await readJsonObject(req)
  const user = requiredString(body.user, 'user')
  const signed = await ctx.authApi.authenticateUser({
    username: user,
    password: typeof body.password === 'string' ? body.password : '',
    ...(typeof body.otp_token === 'string' && body.otp_token !== '' ? {otpCode: body.otp_token} : {}),
    publicKey: publicKeyField(body.pub_key, 'pub_key'),
    ...ttlField(body.ttl),
    clientAddr: clientIp(req),
  })
  return {
    username: signed.username,
    cert: signed.certificate,
    ...(signed.tlsCertificate ? {tls_cert: signed.tlsCertificate} : {}),
    host_signers: [{domain_name: signed.clusterName, checking_keys: signed.hostCAs, ...(signed.tlsCAs ? {tls_certs: signed.tlsCAs} : {})}],
  }
}

/** A host joining through the proxy: the proxy registers it with its token. */
export async function handleHostCredentials(ctx: WebApiContext, req: IncomingMessage): Promise<HostCredentials> {
  const body: Untrusted<HostCredentialsRequest> = await readJsonObject(req)
  const role = requiredString(body.role, 'role').toLowerCase()
  if (role !== 'node' && role !== 'proxy') throw new HttpError(400, `cannot join as "${String(body.role)}"; expected node or proxy`)
  const principals = body.additional_principals ?? []
  if (!Array.isArray(principals) || !principals.every((p) => typeof p === 'string')) throw new HttpError(400, 'field "additional_principals" must be a list of strings')
  const registered = await ctx.authApi.register({
    token: requiredString(body.token, 'token'),
    hostId: requiredString(body.hostID, 'hostID'),
    nodeName: requiredString(body.node_name, 'node_name'),
    role,
    publicKey: publicKeyField(body.public_ssh_key, 'public_ssh_key'),
    additionalPrincipals: principals as string[],
  })
  return {
    cert: registered.certificate,
    host_ca_keys: registered.hostCAs,
    user_ca_keys: registered.userCAs,
    cluster_name: registered.clusterName,
  }
}

type WebApiHandler<R> = (ctx: WebApiContext, req: IncomingMessage) => Promise<ResponseOf<R>>

/** One handler per route of WEB_ROUTES. */
const HANDLERS: {[K in keyof WebRoutes]: WebApiHandler<WebRoutes[K]>} = {
  ping: handlePing,
  hostCAs: async (ctx) => {
    const cas = await ctx.authApi.getCAKeys()
    return {cluster_name: cas.clusterName, host_ca_keys: cas.host}
  },
  sshCerts: handleSshCerts,
  hostCredentials: handleHostCredentials,
}

/** The web API route at `path`: its method, and a handler that answers 200 with the route's JSON. */
export function webApiRoute(path: string): {method: string; serve(ctx: WebApiContext, req: IncomingMessage, res: ServerResponse): Promise<void>} | undefined {
  const name = (Object.keys(WEB_ROUTES) as (keyof WebRoutes)[]).find((key) => WEB_ROUTES[key].path === path)
  if (!name) return undefined
  const handler = HANDLERS[name] as WebApiHandler<unknown>
  return {method: WEB_ROUTES[name].method, serve: async (ctx, req, res) => sendJson(res, 200, await handler(ctx, req))}
}

function requiredString(value: unknown, field: string): string {
  if (typeof value !== 'string' || value === '') throw new HttpError(400, `missing or invalid field "${field}"`)
  return value
}

const KEY_LINE = /^(ssh-|ecdsa-sha2-|sk-)[A-Za-z0-9@.-]+ [A-Za-z0-9+/=]+/

/** An OpenSSH public key line, as text or (Teleport's []byte) base64 of that text. */
function publicKeyField(value: unknown, field: string): string {
  if (typeof value === 'string') {
    const text = value.trim()
    if (KEY_LINE.test(text)) return text
    const decoded = Buffer.from(text, 'base64').toString('utf8').trim()
    if (KEY_LINE.test(decoded)) return decoded
  }
  throw new HttpError(400, `field "${field}" must be an OpenSSH public key ("ssh-ed25519 AAAA...")`)
}

/** `ttl` in nanoseconds (a Go duration); 0 or absent: the server's default. */
function ttlField(value: unknown): {ttlMs?: number} {
  if (value === undefined || value === null || value === 0) return {}
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) throw new HttpError(400, 'field "ttl" must be a duration in nanoseconds')
  return {ttlMs: Math.max(1, Math.floor(value / 1e6))}
}
