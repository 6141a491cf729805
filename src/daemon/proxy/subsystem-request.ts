import {BadParameterError} from '../../lib/errors.js'
import {splitHostPort} from '../../lib/net/ip.js'

// The proxy's routing subsystem names (what `tsh proxy ssh` and nodes joined through the proxy
// ask for):
//
//   proxy:<host>[:<port>][@<cluster>]   a node: ours (looked up) or any SSH server (dialled)
//   proxy:@<cluster>                    a byte pipe to the cluster's auth API
//
// IPv6 hosts are written in brackets when a port follows ([::1]:3022). Port 0 means none.

export const PROXY_SUBSYSTEM_PREFIX = 'proxy:'

export type ProxyRequest =
  | {kind: 'auth'; cluster: string}
  | {kind: 'node'; host: string; port?: number; cluster?: string}

const MAX_HOST = 255
const SAFE = /^[^\s\x00-\x1f\x7f]+$/

export function isProxySubsystem(name: string): boolean {
  return name.startsWith(PROXY_SUBSYSTEM_PREFIX)
}

/** Throws BadParameterError with a sentence for the client. */
export function parseProxySubsystem(name: string): ProxyRequest {
  if (!isProxySubsystem(name)) throw new BadParameterError(`unknown subsystem ${JSON.stringify(name)}`)
  const rest = name.slice(PROXY_SUBSYSTEM_PREFIX.length)
  const at = rest.lastIndexOf('@')
  const target = at < 0 ? rest : rest.slice(0, at)
  const cluster = at < 0 ? undefined : rest.slice(at + 1)
  if (cluster !== undefined && (cluster === '' || !SAFE.test(cluster) || cluster.length > MAX_HOST)) {
    throw new BadParameterError(`invalid cluster name in ${JSON.stringify(name)}`)
  }
  if (target === '') {
    if (cluster === undefined) throw new BadParameterError('expected proxy:<host>[:<port>][@<cluster>] or proxy:@<cluster>')
    return {kind: 'auth', cluster}
  }

  let parts: {host: string; port?: string}
  try {
    parts = splitHostPort(target)
  } catch (err) {
    throw new BadParameterError(`${(err as Error).message} in ${JSON.stringify(target)}`)
  }
  const {host, port: portText} = parts
  if (host === '' || host.length > MAX_HOST || !SAFE.test(host)) throw new BadParameterError(`invalid host in ${JSON.stringify(name)}`)
  let port: number | undefined
  if (portText !== undefined) {
    port = /^\d{1,5}$/.test(portText) ? Number(portText) : NaN
    if (!(port >= 0 && port <= 65535)) throw new BadParameterError(`invalid port ${JSON.stringify(portText)}`)
    if (port === 0) port = undefined
  }
  return {kind: 'node', host, ...(port !== undefined ? {port} : {}), ...(cluster !== undefined ? {cluster} : {})}
}
