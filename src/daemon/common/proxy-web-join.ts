import {Agent, request} from 'undici'
import type {Untrusted} from '../../api/route.js'
import {WEB_ROUTES, type HostCredentials, type HostCredentialsRequest, type WebPing} from '../../api/web-routes.js'
import {fromWireError, parseJsonBody} from '../../api/wire-errors.js'
import {UserError} from '../../lib/errors.js'
import {formatHostPort, parseHostPort, type HostPort} from '../../config/index.js'

// Joining through a proxy's web address (HTTPS): WEB_ROUTES' ping and host credentials. The
// proxy's TLS certificate is not verified here (it is often self-signed); what authenticates the
// cluster is the CA pin, checked by the caller against the host CA the proxy returns, before
// anything is trusted or stored. Errors come back as HTTP 4xx/5xx with the auth API's body
// {error: {kind, message, hint?}}.

/** What a joining host takes from the proxy's ping. */
export interface ProxyPingInfo {
  clusterName: string
  /** Where the proxy's SSH port is reached: public_addr, else listen_addr (a wildcard host replaced by the web host). */
  sshAddr: HostPort
  /** The pins the proxy claims (unauthenticated: only good for refusing early). */
  caPins: string[]
  /** Where a node behind a firewall dials its reverse tunnel; absent when the proxy serves none. */
  tunnelAddr?: HostPort
  /** proxy_listener_mode multiplex: SSH and tunnels are on the web port, by ALPN. */
  tlsRouting: boolean
}

const TIMEOUT_MS = 15_000

function insecureAgent(): Agent {
  return new Agent({connect: {rejectUnauthorized: false, timeout: TIMEOUT_MS}, headersTimeout: TIMEOUT_MS, bodyTimeout: TIMEOUT_MS})
}

function url(addr: HostPort, path: string): string {
  return `https://${formatHostPort(addr)}${path}`
}

/** The proxy's ping. Throws the network or TLS error as is: the caller decides what it means. */
export async function webPing(addr: HostPort): Promise<ProxyPingInfo> {
  const agent = insecureAgent()
  const {method, path} = WEB_ROUTES.ping
  try {
    const response = await request(url(addr, path), {method, dispatcher: agent})
    const text = await response.body.text()
    if (response.statusCode !== 200) throw new UserError(`the proxy at ${formatHostPort(addr)} answered HTTP ${response.statusCode} to ${path}`)
    let body: Untrusted<WebPing>
    try {
      body = JSON.parse(text)
    } catch {
      throw new UserError(`the server at ${formatHostPort(addr)} is not a Teleport proxy: ${path} did not answer JSON`)
    }
    if (typeof body.cluster_name !== 'string') throw new UserError(`the server at ${formatHostPort(addr)} is not a Teleport proxy: no cluster_name in ${path}`)
    const tlsRouting = body.proxy?.tls_routing_enabled === true
    return {
      clusterName: body.cluster_name,
      sshAddr: tlsRouting ? addr : proxySshAddr(addr, body.proxy?.ssh?.public_addr, body.proxy?.ssh?.listen_addr),
      caPins: isStrings(body.ca_pins) ? body.ca_pins : [],
      ...(tlsRouting ? {tunnelAddr: addr} : tunnelAddr(addr, body.proxy?.ssh?.ssh_tunnel_public_addr, body.proxy?.ssh?.tunnel_listen_addr)),
      tlsRouting,
    }
  } finally {
    await agent.close().catch(() => {})
  }
}

/** The token buys a host certificate. */
export async function requestHostCredentials(addr: HostPort, body: HostCredentialsRequest): Promise<HostCredentials> {
  const agent = insecureAgent()
  const {method, path} = WEB_ROUTES.hostCredentials
  try {
    const response = await request(url(addr, path), {
      method,
      dispatcher: agent,
      headers: {'content-type': 'application/json'},
      body: JSON.stringify(body),
    })
    const parsed = parseJsonBody(await response.body.text())
    if (response.statusCode >= 400) {
      const err = fromWireError(response.statusCode, parsed)
      if (err.constructor === Error) throw new UserError(`the proxy at ${formatHostPort(addr)} refused to register this host: ${plainMessage(parsed) ?? `HTTP ${response.statusCode}`}`)
      throw err
    }
    const creds = parsed as Untrusted<HostCredentials> | undefined
    if (typeof creds?.cert !== 'string' || !isStrings(creds.host_ca_keys) || !isStrings(creds.user_ca_keys) || typeof creds.cluster_name !== 'string') {
      throw new UserError(`the proxy at ${formatHostPort(addr)} answered ${path} without a certificate and CA keys`)
    }
    return creds as HostCredentials
  } finally {
    await agent.close().catch(() => {})
  }
}

function isStrings(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((v) => typeof v === 'string')
}

/** A Teleport-style `{error: {message}}` or `{message}` body that is not our wire shape. */
function plainMessage(body: unknown): string | undefined {
  const b = body as {error?: {message?: unknown} | string; message?: unknown} | undefined
  if (typeof b?.error === 'string') return b.error
  if (typeof b?.error?.message === 'string') return b.error.message
  if (typeof b?.message === 'string') return b.message
  return undefined
}

function proxySshAddr(webAddr: HostPort, publicAddr: unknown, listenAddr: unknown): HostPort {
  return pingAddr(webAddr, [publicAddr, listenAddr], 3023) ?? {host: webAddr.host, port: 3023}
}

function tunnelAddr(webAddr: HostPort, publicAddr: unknown, listenAddr: unknown): {tunnelAddr?: HostPort} {
  const addr = pingAddr(webAddr, [publicAddr, listenAddr], 3024)
  return addr ? {tunnelAddr: addr} : {}
}

/** The first candidate that is an address; a proxy listening on every interface is reached by the host we reached its web port by. */
function pingAddr(webAddr: HostPort, candidates: unknown[], defaultPort: number): HostPort | undefined {
  for (const candidate of candidates) {
    if (typeof candidate !== 'string' || candidate === '') continue
    try {
      const parsed = parseHostPort(candidate, {defaultPort})
      if (parsed.host === '0.0.0.0' || parsed.host === '::' || parsed.host === '') return {host: webAddr.host, port: parsed.port}
      return parsed
    } catch {
      // not an address: try the next one
    }
  }
  return undefined
}
