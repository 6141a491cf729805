import type {Socket} from 'node:net'
import type {Duplex} from 'node:stream'

// What a server is handed instead of binding a port itself: a byte stream and its two ends.
// The TCP listener (tcp-listener.ts) hands in accepted sockets; tests hand in in-memory pairs,
// and a proxy can hand in connections it took from one multiplexed port or a reverse tunnel.

export interface Endpoint {
  /** An IP address as the transport reports it (possibly "::ffff:"-mapped), or a name for non-IP transports. */
  host: string
  port: number
}

export interface HandedConnection {
  stream: Duplex
  /** This side: the address the client connected to. */
  local: Endpoint
  /** The client's side. */
  remote: Endpoint
}

/** A server that takes connections; it owns each stream from the moment it is handed in. */
export interface ConnectionHandler {
  handle(conn: HandedConnection): void
}

/** A TCP socket with its endpoints as the kernel reports them. */
export function socketConnection(socket: Socket): HandedConnection {
  return {
    stream: socket,
    local: {host: socket.localAddress ?? '', port: socket.localPort ?? 0},
    remote: {host: socket.remoteAddress ?? '', port: socket.remotePort ?? 0},
  }
}
