import {lookup} from 'node:dns/promises'
import {isIP} from 'node:net'
import type {NodeInfo} from '../../api/auth-api.js'
import {joinHostPort, parseEndpoint, plainIp} from '../../lib/net/ip.js'
import {renderTable} from '../../lib/output.js'
import {matchesSelector, selectorOfHost} from '../../services/models/label-selector.js'
import {formatLabels, nodeLabels} from '../../services/models/node.js'

// Which of our nodes a `proxy:<host>[:<port>]` request means, in REFERENCE.md's order:
//   1. the node whose name (host UUID) is <host>: that one, whatever the port;
//   2. nodes whose hostname is <host> (the port is not compared: `ssh node1` through a
//      ProxyCommand says port 22 while our node listens on 3022);
//   3. nodes whose address is <host>:<port>, or whose IP is one <host> resolves to (same port
//      when one is given: a plain sshd may share the machine with our node);
//   4. nodes whose labels match a `k=v[,k=v]` selector.
// The first step with any match decides. No match: the caller dials <host>:<port> itself.

export interface LookupTarget {
  host: string
  port?: number
}

export type Resolver = (host: string) => Promise<string[]>

/** DNS (and /etc/hosts) addresses of a name; none when it does not resolve. */
export const systemResolver: Resolver = async (host) => {
  try {
    return (await lookup(host, {all: true, verbatim: true})).map((a) => a.address)
  } catch {
    return []
  }
}

const UNSPECIFIED = new Set(['', '0.0.0.0', '::', '[::]'])

/**
 * Where to dial a node: its address, with an unspecified host (a node listening on 0.0.0.0 whose
 * record auth could not complete) read as loopback: the node then runs beside this proxy.
 */
export function dialAddress(node: Pick<NodeInfo, 'addr'>): {host: string; port: number} | undefined {
  const parts = parseEndpoint(node.addr)
  if (!parts) return undefined
  return UNSPECIFIED.has(parts.host) ? {host: '127.0.0.1', port: parts.port} : parts
}

function normalizeIp(ip: string): string {
  return plainIp(ip).toLowerCase()
}

export async function findNodes(nodes: NodeInfo[], target: LookupTarget, resolve: Resolver = systemResolver): Promise<NodeInfo[]> {
  const byName = nodes.find((n) => n.name.toLowerCase() === target.host.toLowerCase())
  if (byName) return [byName]

  const byHostname = nodes.filter((n) => n.hostname === target.host)
  if (byHostname.length) return byHostname

  const portFits = (port: number) => target.port === undefined || target.port === port
  const literal = target.port === undefined ? undefined : joinHostPort(target.host, target.port)
  const ips = new Set((isIP(target.host) ? [target.host] : await resolve(target.host)).map(normalizeIp))
  const byAddress = nodes.filter((n) => {
    if (literal !== undefined && n.addr === literal) return true
    const addr = dialAddress(n)
    return addr !== undefined && portFits(addr.port) && ips.has(normalizeIp(addr.host))
  })
  if (byAddress.length) return byAddress

  const selector = selectorOfHost(target.host)
  return selector ? nodes.filter((n) => matchesSelector(nodeLabels(n), selector)) : []
}

/** The text `tsh ssh` users see when a name matches several nodes (REFERENCE.md). */
export function ambiguousHostMessage(matches: NodeInfo[]): string {
  const rows = [...matches].sort((a, b) => a.hostname.localeCompare(b.hostname) || a.name.localeCompare(b.name)).map((n) => [n.hostname, n.tunnel ? '⟵ Tunnel' : n.addr, formatLabels(nodeLabels(n))])
  return (
    'error: ambiguous host could match multiple nodes\n\n' +
    renderTable(['Node Name', 'Address', 'Labels'], rows) +
    '\nHint: try addressing the node by unique id (ex: tsh ssh user@node-id)\n' +
    "Hint: use 'tsh ls -v' to list all nodes with their unique ids\n"
  )
}
