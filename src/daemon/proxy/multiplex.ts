import type {TLSSocket} from 'node:tls'
import {ALPN_AUTH, ALPN_PROXY_SSH, ALPN_REVERSE_TUNNEL} from '../../api/alpn.js'
import {splice} from '../../api/ssh-relay.js'
import type {AuthServers} from '../../api/auth-servers.js'
import type {Logger} from '../../lib/log.js'
import type {ConnectionHandler, Endpoint} from '../../lib/net/connection.js'
import {joinHostPort, plainIp} from '../../lib/net/ip.js'
import {dialAuthServer} from './auth-dialer.js'

// `auth_service.proxy_listener_mode: multiplex`: every protocol of the proxy on its web port,
// routed by the ALPN name the client asks for in its TLS handshake (Teleport's names). The web
// server (web-server.ts) serves `http/1.1` itself and hands the other TLS sockets here:
//
//   teleport-proxy-ssh       the SSH proxy server (ssh-server.ts), as if on its own port
//   teleport-reversetunnel   node tunnels: the tunnel server's handler when the proxy has one
//   teleport-auth@           the auth API: bytes forwarded to the auth server (tctl, joining hosts)
//
// (the TLS relay, teleport-ssh-relay, is on the web port in both modes.)


type AlpnHandler = (socket: TLSSocket, remote: Endpoint) => void

export function multiplexHandlers(options: {sshServer: ConnectionHandler; tunnelServer?: ConnectionHandler; authServers: AuthServers; log: Logger; signal: AbortSignal}): Record<string, AlpnHandler> {
  const {log} = options
  const handOver = (server: ConnectionHandler): AlpnHandler => (socket, remote) =>
    server.handle({stream: socket, local: {host: socket.localAddress ?? '', port: socket.localPort ?? 0}, remote})
  return {
    [ALPN_PROXY_SSH]: handOver(options.sshServer),
    [ALPN_REVERSE_TUNNEL]: options.tunnelServer
      ? handOver(options.tunnelServer)
      : (socket, remote) => {
          log.warn(`refused a reverse tunnel from ${joinHostPort(plainIp(remote.host), remote.port)}: this proxy serves no reverse tunnels`)
          socket.destroy()
        },
    [ALPN_AUTH]: (socket, remote) => {
      socket.on('error', () => socket.destroy())
      dialAuthServer(options.authServers, {signal: options.signal}).then(
        (auth) => void splice(socket, auth),
        (err: Error) => {
          log.warn(`cannot reach ${options.authServers.describe()} for ${joinHostPort(plainIp(remote.host), remote.port)}: ${err.message}`)
          socket.destroy()
        },
      )
    },
  }
}
