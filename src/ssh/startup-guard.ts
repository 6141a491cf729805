import type {Socket} from 'node:net'
import type {Duplex} from 'node:stream'
import type ssh2 from 'ssh2'
import type {Connection} from 'ssh2'
import type {HandedConnection} from '../lib/net/connection.js'
import {plainIp} from '../lib/net/ip.js'
import type {StartupLimiter} from '../lib/net/startup-limiter.js'

// An ssh2 server's connections go through a StartupLimiter from the moment they are handed in:
// ssh2 itself only hears of a connection once the client's version line arrived, so a client
// that sends nothing would never be seen (nor closed). We count, then inject (at once, or when the
// limiter lets a waiting connection start).

const handed = new WeakMap<object, HandedConnection>()

/**
 * Counts a handed connection under its client's address, then gives it to `ssh` when the limiter
 * lets it start (it may close it instead). A server whose host certificate can be renewed passes
 * a getter: a connection that waited starts on the server as it is then.
 */
export function injectGuarded(ssh: ssh2.Server | (() => ssh2.Server), limiter: StartupLimiter, conn: HandedConnection): void {
  conn.stream.on('error', () => {}) // a client vanishing mid-handshake is not our error
  handed.set(conn.stream, conn)
  // typed for a Socket, ssh2 uses only the Duplex calls (setNoDelay if present)
  limiter.admit(conn.stream, plainIp(conn.remote.host), () => (typeof ssh === 'function' ? ssh() : ssh).injectSocket(conn.stream as Socket))
}

/** The connection an ssh2 client arrived on (ssh2's own address info only knows TCP sockets). */
export function handedConnection(client: Connection): HandedConnection | undefined {
  return handed.get(connectionSocket(client))
}

/** The stream ssh2 runs a connection over (ours: we injected it). */
export function connectionSocket(client: Connection): Duplex {
  return (client as unknown as {_sock: Duplex})._sock
}

/** Stops counting the connection once its user has authenticated. */
export function releaseOnLogin(client: Connection, limiter: StartupLimiter): void {
  client.once('ready', () => limiter.authenticated(connectionSocket(client)))
}
