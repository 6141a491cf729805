// The reverse tunnel's wire contract, shared by the node that dials out (node/tunnel-agent.ts)
// and the proxy that serves it (proxy/tunnel-server.ts). The tunnel is one SSH connection from
// node to proxy, host certificates both ways. The node asks `tcpip-forward` for TUNNEL_BIND;
// the proxy then reaches the node's SSH server by opening `forwarded-tcpip` channels to that
// bind address, each carrying one client connection (the proxy's signed preamble first). The
// node's auth API connection (heartbeats and all) runs over a `proxy:@<cluster>` subsystem
// channel the node opens on the same connection.

/** The bind address a node asks forwarding for: not a port anywhere, a name for "this node's SSH server". */
export const TUNNEL_BIND = {host: 'teleport-reversetunnel', port: 3022} as const

/** How often each side checks the other is still there (SSH keepalive), and how many misses end it. */
export const TUNNEL_KEEPALIVE_MS = 15_000
export const TUNNEL_KEEPALIVE_MAX_MISSES = 3

// Discovery (Teleport's "discovery" request on the tunnel): once its tunnel is up, the node opens
// a session channel with subsystem DISCOVERY_SUBSYSTEM; the proxy writes one DiscoveryMessage per
// line on it, the whole current set of proxies each time (at once if it knows any, then whenever
// the set changes). The node keeps a tunnel to every proxy in the set, told apart by the host id
// in each proxy's host certificate, and drops those that leave it.

export const DISCOVERY_SUBSYSTEM = 'teleport-discovery'
/** A longer line is not a discovery message (and is not buffered further). */
export const MAX_DISCOVERY_LINE = 256 * 1024

export interface DiscoveredProxy {
  /** The proxy's host id: its host certificate's key id. */
  id: string
  hostname: string
  /** host:port of its web address (public_addr, often a load balancer shared by all proxies). */
  addr: string
}

export interface DiscoveryMessage {
  type: 'discovery'
  clusterName: string
  proxies: DiscoveredProxy[]
}

/** One line as the proxy writes it. */
export function encodeDiscovery(message: DiscoveryMessage): string {
  return JSON.stringify(message) + '\n'
}

/** One line as the node reads it: the valid proxies of a discovery message for `clusterName`, else undefined. */
export function decodeDiscovery(line: string, clusterName: string): DiscoveredProxy[] | undefined {
  let message: unknown
  try {
    message = JSON.parse(line)
  } catch {
    return undefined
  }
  const m = message as Partial<DiscoveryMessage> | null
  if (!m || m.type !== 'discovery' || m.clusterName !== clusterName || !Array.isArray(m.proxies)) return undefined
  return m.proxies.filter(
    (p): p is DiscoveredProxy => typeof p?.id === 'string' && /^[^/\s]{1,255}$/.test(p.id) && typeof p.hostname === 'string' && typeof p.addr === 'string',
  ).map(({id, hostname, addr}) => ({id, hostname, addr}))
}

/** The proxies a proxy knows now, and news of changes (proxy/proxy-presence.ts). */
export interface ProxyDiscovery {
  current(): DiscoveredProxy[]
  /** Calls `listener` after each change; returns the unsubscribe. */
  onChange(listener: () => void): () => void
}
