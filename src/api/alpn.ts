import tls from 'node:tls'
import {joinHostPort} from '../lib/net/ip.js'

// The ALPN names the proxy's web port answers to in `proxy_listener_mode: multiplex`
// (Teleport's names; src/daemon/proxy/multiplex.ts). The TLS relay's name is in ssh-relay.ts.

/** The SSH proxy server (what port 3023 serves in separate mode). */
export const ALPN_PROXY_SSH = 'teleport-proxy-ssh'
/** Nodes' reverse tunnels (port 3024 in separate mode). */
export const ALPN_REVERSE_TUNNEL = 'teleport-reversetunnel'
/** The auth API, forwarded to the auth server. */
export const ALPN_AUTH = 'teleport-auth@'

/**
 * TLS to a multiplexed proxy's web port for one of the protocols above, for hosts and tctl. The
 * proxy's TLS certificate is not checked: the SSH connection run inside authenticates both ends
 * (the proxy must present a Proxy host certificate of the cluster's host CA), as on port 3023.
 */
export function dialAlpn(addr: {host: string; port: number}, alpn: string, timeoutMs = 15_000): Promise<tls.TLSSocket> {
  const where = joinHostPort(addr.host, addr.port)
  return new Promise((resolve, reject) => {
    const socket = tls.connect({host: addr.host, port: addr.port, ALPNProtocols: [alpn], rejectUnauthorized: false, timeout: timeoutMs})
    const fail = (err: Error) => {
      socket.destroy()
      reject(new Error(`TLS to the proxy at ${where} (${alpn}): ${err.message}`))
    }
    socket.once('error', fail)
    socket.once('timeout', () => fail(new Error('timed out')))
    socket.once('secureConnect', () => {
      socket.off('error', fail)
      socket.setTimeout(0)
      socket.setNoDelay(true)
      if (socket.alpnProtocol !== alpn) return fail(new Error(`the proxy does not serve ${alpn} on its web port`))
      resolve(socket)
    })
  })
}
