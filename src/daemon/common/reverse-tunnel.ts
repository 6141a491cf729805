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
