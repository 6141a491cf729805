import {createServer, type Server, type Socket} from 'node:net'
import type ssh2 from 'ssh2'
import type {Connection} from 'ssh2'
import {plainIp} from '../lib/net/ip.js'
import type {StartupLimiter} from '../lib/net/startup-limiter.js'

// An ssh2 server's connections go through a StartupLimiter from the moment they are accepted:
// ssh2 itself only hears of a connection once the client's version line arrived, so a client
// that sends nothing would never be seen (nor closed). We accept, count, then inject.

/** A TCP listener handing each admitted connection to `ssh`. */
export function guardedSshListener(ssh: ssh2.Server, limiter: StartupLimiter): Server {
  return createServer((socket) => {
    socket.on('error', () => {}) // a client vanishing mid-handshake is not our error
    if (limiter.admit(socket, plainIp(socket.remoteAddress))) ssh.injectSocket(socket)
  })
}

/** The raw socket ssh2 runs a connection over (ours: we injected it). */
export function connectionSocket(client: Connection): Socket {
  return (client as unknown as {_sock: Socket})._sock
}

/** Stops counting the connection once its user has authenticated. */
export function releaseOnLogin(client: Connection, limiter: StartupLimiter): void {
  client.once('ready', () => limiter.authenticated(connectionSocket(client)))
}
