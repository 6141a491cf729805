import {ApiClient} from '../../api/client.js'
import {AuthApiClient} from '../../api/auth-api-client.js'
import {AccessDeniedError, UserError} from '../../lib/errors.js'
import type {Logger} from '../../lib/log.js'
import {caPin, CertificateError, generateKeyPair, parseCert, parsePublicKeyLine, verifyCert, type ParsedCert} from '../../sshca/index.js'
import {formatHostPort, type HostPort} from '../../config/index.js'
import {loadJoinedIdentity, saveJoinedIdentity, type AuthRoute, type JoinedIdentity, type JoinRole} from './joined-identity.js'
import {requestHostCredentials, webPing} from './proxy-web-join.js'

// Joining the cluster with a token (REFERENCE.md "Joining the cluster"): the host makes its key
// pair here (the private key never leaves it), proves the cluster is the one --ca-pin names, and
// trades the token for a host certificate. Either straight with the auth API (SSH), or through a
// proxy's web address (HTTPS). Which one an address is, is found out by asking: a proxy answers
// GET /v1/webapi/ping over HTTPS, the auth API answers SSH. After joining, everything needed to
// reconnect is in the data dir and the token is never needed again.

export interface JoinOptions {
  /** Auth API addresses or proxy web addresses, tried in order. */
  authServers: HostPort[]
  token: string
  /** `sha256:<hex>` pins of the host CA; empty: join without checking, with a warning. */
  caPins: string[]
  dataDir: string
  role: JoinRole
  nodeName: string
  hostUuid: string
  additionalPrincipals?: string[]
  log: Logger
}

export type {JoinedIdentity, AuthRoute} from './joined-identity.js'

/** Joins and writes the identity to the data dir. One clear UserError per way it can fail. */
export async function joinCluster(options: JoinOptions): Promise<JoinedIdentity> {
  if (options.authServers.length === 0) throw new UserError('no auth server to join', {hint: 'pass --auth-server=<auth or proxy address>'})
  if (!options.token) throw new UserError('a join token is required to join the cluster', {hint: 'create one with "tctl tokens add --type=node" and pass --token'})
  const key = otherRoleKey(options) ?? generateKeyPair()
  let lastError: Error | undefined
  for (const addr of options.authServers) {
    try {
      const joined = await joinVia(addr, key, options)
      saveJoinedIdentity(options.dataDir, options.role, joined)
      options.log.info(`Joined cluster "${joined.clusterName}" as ${options.role} ${options.hostUuid} via ${joined.authRoute.kind === 'auth' ? 'the auth server' : 'the proxy'} at ${formatHostPort(addr)}.`)
      return joined
    } catch (err) {
      // A refusal (token, pin) is final; an unreachable address lets the next one be tried.
      if (!(err instanceof UnreachableError) || options.authServers.length === 1) throw err
      options.log.warn(err.message)
      lastError = err
    }
  }
  throw lastError ?? new UserError('could not join the cluster')
}

/**
 * The key this host joined its other role with: auth gives a host id that is taken only to the
 * key it is bound to, so a host running node and proxy joins both with one key.
 */
function otherRoleKey(options: JoinOptions): KeyPair | undefined {
  const other = loadJoinedIdentity(options.dataDir, options.role === 'node' ? 'proxy' : 'node', options.hostUuid)
  return other ? {privateKey: other.privateKey, publicKey: other.cert.publicKey} : undefined
}

/**
 * The identity in the data dir when this host has joined before; otherwise joins with the token.
 * A restart never needs the token.
 */
export async function loadOrJoin(options: Omit<JoinOptions, 'token'> & {token?: string}): Promise<JoinedIdentity> {
  const existing = loadJoinedIdentity(options.dataDir, options.role, options.hostUuid)
  if (existing) return rerouteIfMoved(existing, options)
  if (!options.token) {
    throw new UserError(`this ${options.role} has not joined a cluster yet and no join token was given`, {
      hint: 'create a token on the auth server with "tctl tokens add --type=' + options.role + '" and pass --token and --ca-pin',
    })
  }
  return joinCluster({...options, token: options.token})
}

/**
 * The configured auth servers win over the address this host joined through (auth may have
 * moved): when the stored route's address is not among them, the first one is asked what it is
 * (a proxy answers HTTPS, auth SSH) and the new route is kept. Nothing is re-issued.
 */
async function rerouteIfMoved(joined: JoinedIdentity, options: Omit<JoinOptions, 'token'>): Promise<JoinedIdentity> {
  const route = joined.authRoute
  const current = route.kind === 'auth' ? route.addr : route.webAddr
  const first = options.authServers[0]
  if (!first || options.authServers.some((a) => a.host === current.host && a.port === current.port)) return joined
  let authRoute: AuthRoute
  try {
    const ping = await webPing(first)
    authRoute = {kind: 'proxy', webAddr: first, sshAddr: ping.sshAddr, ...(ping.tlsRouting ? {tlsRouting: true} : {})}
  } catch (err) {
    if (!isTransportError(err) || isUnreachable(err as Error)) {
      options.log.warn(`the auth server address changed to ${formatHostPort(first)}, which does not answer (${(err as Error).message}); keeping ${formatHostPort(current)}`)
      return joined
    }
    authRoute = {kind: 'auth', addr: first}
  }
  const moved = {...joined, authRoute}
  saveJoinedIdentity(options.dataDir, options.role, moved)
  options.log.info(`Reaching the cluster via the ${authRoute.kind === 'auth' ? 'auth server' : 'proxy'} at ${formatHostPort(first)} (was ${formatHostPort(current)}).`)
  return moved
}

/** The address answered neither as a proxy nor as an auth server. */
class UnreachableError extends UserError {}

type KeyPair = {privateKey: string; publicKey: string}

async function joinVia(addr: HostPort, key: KeyPair, options: JoinOptions): Promise<JoinedIdentity> {
  const where = formatHostPort(addr)
  let webError: Error
  try {
    const ping = await webPing(addr)
    // The pins a proxy's ping lists prove nothing, but a mismatch there spares sending the token.
    if (options.caPins.length && ping.caPins.length && !ping.caPins.some((pin) => options.caPins.includes(pin))) throw pinMismatch(ping.caPins, options.caPins)
    return await joinThroughProxy(addr, ping.sshAddr, ping.tlsRouting, key, options)
  } catch (err) {
    if (!isTransportError(err)) throw err
    webError = err as Error
  }
  if (isUnreachable(webError)) throw new UnreachableError(`cannot reach ${where}: ${describeTransport(webError)}`, {hint: 'check --auth-server and that the auth server or proxy is running there'})
  try {
    return await joinThroughAuth(addr, key, options)
  } catch (err) {
    if (err instanceof UserError && !isSshTransportFailure(err)) throw err
    throw new UnreachableError(`neither a Teleport proxy (HTTPS) nor an auth server (SSH) answers at ${where}: HTTPS: ${describeTransport(webError)}; SSH: ${oneLine((err as Error).message).replace(/^cannot connect to the auth server at \S+: /, '')}`, {
      hint: 'pass the auth server address (port 3025) or the proxy web address (port 3080) as --auth-server',
    })
  }
}

async function joinThroughAuth(addr: HostPort, key: KeyPair, options: JoinOptions): Promise<JoinedIdentity> {
  if (options.caPins.length === 0) options.log.warn(`joining without a CA pin: the auth server at ${formatHostPort(addr)} is trusted on first use; pass --ca-pin (see "tctl status") to verify it`)
  const client = new ApiClient({
    host: addr.host,
    port: addr.port,
    credentials: {privateKey: key.privateKey},
    trust: options.caPins.length ? {caPins: options.caPins} : {insecure: true},
  })
  const api = new AuthApiClient(client)
  try {
    try {
      await client.connect()
    } catch (err) {
      if (err instanceof CertificateError && err.reason === 'untrusted-ca') {
        const actual = /sha256:[0-9a-f]{64}/.exec(err.message)?.[0]
        throw actual ? pinMismatch([actual], options.caPins) : err
      }
      throw err
    }
    const response = await api.register({
      token: options.token,
      hostId: options.hostUuid,
      nodeName: options.nodeName,
      role: options.role,
      publicKey: key.publicKey,
      additionalPrincipals: options.additionalPrincipals ?? [],
    })
    const route: AuthRoute = {kind: 'auth', addr}
    return accept(response.certificate, response.hostCAs, response.userCAs, response.clusterName, key, route, options)
  } finally {
    await api.close().catch(() => {})
  }
}

async function joinThroughProxy(webAddr: HostPort, sshAddr: HostPort, tlsRouting: boolean, key: KeyPair, options: JoinOptions): Promise<JoinedIdentity> {
  const creds = await requestHostCredentials(webAddr, {
    token: options.token,
    hostID: options.hostUuid,
    node_name: options.nodeName,
    role: options.role,
    public_ssh_key: key.publicKey,
    additional_principals: options.additionalPrincipals ?? [],
  })
  const pins = creds.host_ca_keys.map((ca) => caPin(ca))
  if (options.caPins.length === 0) {
    options.log.warn(`joining without a CA pin: trusting the cluster CA ${pins.join(',')} presented by the proxy at ${formatHostPort(webAddr)}; pass --ca-pin (see "tctl status") to verify it`)
  } else if (!pins.some((pin) => options.caPins.includes(pin))) {
    throw pinMismatch(pins, options.caPins)
  }
  return accept(creds.cert, creds.host_ca_keys, creds.user_ca_keys, creds.cluster_name, key, {kind: 'proxy', webAddr, sshAddr, ...(tlsRouting ? {tlsRouting: true} : {})}, options)
}

function pinMismatch(actual: string[], expected: string[]): AccessDeniedError {
  return new AccessDeniedError(`the cluster's CA pin is ${actual.join(',')}, which does not match --ca-pin ${expected.join(',')}`, {
    hint: 'check the pin with "tctl status" on the auth server',
  })
}

/** Checks what the cluster handed back before anything is stored. */
function accept(certificate: string, hostCAs: string[], userCAs: string[], clusterName: string, key: KeyPair, authRoute: AuthRoute, options: JoinOptions): JoinedIdentity {
  let cert: ParsedCert
  try {
    cert = verifyCert(parseCert(certificate), {type: 'host', trustedCAs: hostCAs})
  } catch (err) {
    throw new AccessDeniedError(`the cluster returned a host certificate that does not verify: ${(err as Error).message}`)
  }
  if (!parsePublicKeyLine(cert.publicKey).blob.equals(parsePublicKeyLine(key.publicKey).blob)) {
    throw new AccessDeniedError('the cluster returned a host certificate for another key')
  }
  const expectedRole = options.role === 'proxy' ? 'Proxy' : 'Node'
  if (cert.hostRole !== expectedRole || cert.keyId !== options.hostUuid) {
    throw new AccessDeniedError(`the cluster returned a ${cert.hostRole ?? 'role-less'} certificate for "${cert.keyId}", expected a ${expectedRole} certificate for ${options.hostUuid}`)
  }
  return {privateKey: key.privateKey, certificate: cert.line, hostCAs, cert, hostUuid: options.hostUuid, clusterName, userCAs, authRoute}
}

// ---- telling "not this kind of server" from "refused" ----------------------------------------

const UNREACHABLE_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'ETIMEDOUT', 'UND_ERR_CONNECT_TIMEOUT'])

function errorCode(err: unknown): string | undefined {
  const e = err as {code?: unknown; cause?: {code?: unknown}}
  if (typeof e?.code === 'string' && e.code !== 'UND_ERR_SOCKET') return e.code
  if (typeof e?.cause?.code === 'string') return e.cause.code
  return typeof e?.code === 'string' ? e.code : undefined
}

/** A failure below HTTP (TCP, TLS, not HTTP at all): the address may be the other kind. */
function isTransportError(err: unknown): boolean {
  if (err instanceof UserError) return false
  return err instanceof Error
}

function isUnreachable(err: Error): boolean {
  const code = errorCode(err)
  return code !== undefined && UNREACHABLE_CODES.has(code)
}

function describeTransport(err: Error): string {
  const code = errorCode(err)
  if (code === 'ECONNREFUSED') return 'connection refused'
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return 'the host name does not resolve'
  if (code === 'ETIMEDOUT' || code === 'UND_ERR_CONNECT_TIMEOUT') return 'timed out'
  if (code?.startsWith('ERR_SSL_')) return 'no TLS handshake (not an HTTPS server)'
  if (code === 'ECONNRESET' || code === 'UND_ERR_SOCKET') return 'the connection was closed'
  const cause = (err as {cause?: Error}).cause
  return oneLine(cause?.message ?? err.message)
}

function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, ' ').trim()
}

/** ApiClient's "cannot connect" errors (not a refusal by a real auth server). */
function isSshTransportFailure(err: UserError): boolean {
  return !(err instanceof AccessDeniedError) && /^(cannot connect|timed out connecting|cannot reach|cannot resolve)/.test(err.message)
}
