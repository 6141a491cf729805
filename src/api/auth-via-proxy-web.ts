import type {Duplex} from 'node:stream'
import ssh2 from 'ssh2'
import {Agent, request} from 'undici'
import {AccessDeniedError, UserError} from '../lib/errors.js'
import {joinHostPort, splitHostPort} from '../lib/net/ip.js'
import {verifyCert} from '../sshca/index.js'
import {CERT_HOST_KEY_ALGORITHMS, withHostKeyAlgorithms} from '../ssh/index.js'
import {ALPN_PROXY_SSH, dialAlpn} from './alpn.js'
import type {Untrusted} from './route.js'
import {WEB_ROUTES, type WebPing} from './web-routes.js'

// The auth API through a proxy when all a caller has is the proxy's web address (tctl
// --auth-server=<proxy:3080> -i <identity>): the web ping says where the proxy's SSH port is,
// and the caller's certificate opens the proxy's `proxy:@<cluster>` pipe to auth there. The
// TLS certificate of the ping is not checked: nothing is trusted from it but an address, and the
// proxy then has to present a Proxy host certificate of the caller's host CA.

export interface ProxyWebTarget {
  clusterName: string
  /** The proxy's SSH port (public address, else listen address; a wildcard host is the web host). */
  sshAddr: {host: string; port: number}
  /** proxy_listener_mode multiplex: SSH is on the web port, by ALPN (sshAddr is the web address). */
  tlsRouting: boolean
}

const TIMEOUT_MS = 15_000

/** The proxy behind a web address, or undefined when the address does not answer the ping over HTTPS (an auth server, say). */
export async function pingProxyWeb(addr: {host: string; port: number}): Promise<ProxyWebTarget | undefined> {
  const agent = new Agent({connect: {rejectUnauthorized: false, timeout: TIMEOUT_MS}, headersTimeout: TIMEOUT_MS, bodyTimeout: TIMEOUT_MS})
  try {
    const response = await request(`https://${joinHostPort(addr.host, addr.port)}${WEB_ROUTES.ping.path}`, {method: WEB_ROUTES.ping.method, dispatcher: agent})
    const body = (await response.body.json().catch(() => undefined)) as Untrusted<WebPing> | undefined
    if (response.statusCode !== 200 || typeof body?.cluster_name !== 'string') return undefined
    const tlsRouting = body.proxy?.tls_routing_enabled === true
    return {clusterName: body.cluster_name, sshAddr: tlsRouting ? addr : sshAddress(addr, [body.proxy?.ssh?.public_addr, body.proxy?.ssh?.listen_addr]), tlsRouting}
  } catch {
    return undefined
  } finally {
    await agent.close().catch(() => {})
  }
}

function sshAddress(web: {host: string; port: number}, candidates: unknown[]): {host: string; port: number} {
  for (const candidate of candidates) {
    if (typeof candidate !== 'string' || candidate === '') continue
    try {
      const {host, port} = splitHostPort(candidate)
      const portNumber = port === undefined ? 3023 : Number(port)
      if (!Number.isInteger(portNumber) || portNumber < 1 || portNumber > 65535) continue
      return {host: host === '' || host === '0.0.0.0' || host === '::' ? web.host : host, port: portNumber}
    } catch {
      // not an address: try the next one
    }
  }
  return {host: web.host, port: 3023}
}

export interface ProxyPipeCredentials {
  /** The login sent to the proxy (it checks none for this pipe); hosts send their UUID. */
  username: string
  privateKey: string
  certificate: string
  hostCAs: string[]
}

/**
 * An SSH channel to the proxy's `proxy:@<cluster>` subsystem; closing it ends the proxy connection.
 * `tlsRouting`: the proxy's SSH server is reached by ALPN on its web port (multiplex mode).
 */
export async function dialAuthPipe(sshAddr: {host: string; port: number}, clusterName: string, credentials: ProxyPipeCredentials, options: {tlsRouting?: boolean} = {}): Promise<Duplex> {
  const where = joinHostPort(sshAddr.host, sshAddr.port)
  let sock: Duplex | undefined
  if (options.tlsRouting) {
    try {
      sock = await dialAlpn(sshAddr, ALPN_PROXY_SSH, TIMEOUT_MS)
    } catch (err) {
      throw new UserError(`cannot reach the auth server through the proxy at ${where}: ${(err as Error).message}`)
    }
  }
  return new Promise((resolve, reject) => {
    const client = new ssh2.Client()
    let refusal: Error | undefined
    let settled = false
    const fail = (err: Error) => {
      if (settled) return
      settled = true
      client.end()
      reject(refusal ?? new UserError(`cannot reach the auth server through the proxy at ${where}: ${err.message}`))
    }
    client.on('error', fail)
    client.once('close', () => fail(new Error('the proxy closed the connection')))
    client.once('ready', () => {
      client.subsys(`proxy:@${clusterName}`, (err, channel) => {
        if (err) return fail(new Error(`the proxy refused subsystem proxy:@${clusterName}: ${err.message}`))
        settled = true
        channel.once('close', () => client.end())
        resolve(channel as unknown as Duplex)
      })
    })
    client.connect({
      host: sshAddr.host,
      port: sshAddr.port,
      ...(sock ? {sock} : {}),
      username: credentials.username,
      privateKey: credentials.privateKey,
      certificate: credentials.certificate,
      readyTimeout: TIMEOUT_MS,
      algorithms: withHostKeyAlgorithms([...CERT_HOST_KEY_ALGORITHMS]),
      hostVerifier: (key: Buffer) => {
        try {
          const cert = verifyCert(key, {type: 'host', trustedCAs: credentials.hostCAs})
          if (cert.hostRole !== 'Proxy') throw new AccessDeniedError(`the server at ${where} is a ${cert.hostRole ?? 'role-less'} host, not a proxy`)
          return true
        } catch (err) {
          refusal = err as Error
          return false
        }
      },
    } as ssh2.ConnectConfig)
  })
}
