// The ALPN names the proxy's web port answers to in `proxy_listener_mode: multiplex`
// (Teleport's names; src/daemon/proxy/multiplex.ts). The TLS relay's name is in ssh-relay.ts.

/** The SSH proxy server (what port 3023 serves in separate mode). */
export const ALPN_PROXY_SSH = 'teleport-proxy-ssh'
/** Nodes' reverse tunnels (port 3024 in separate mode). */
export const ALPN_REVERSE_TUNNEL = 'teleport-reversetunnel'
/** The auth API, forwarded to the auth server. */
export const ALPN_AUTH = 'teleport-auth@'
