import {connect, createServer, type Server} from 'node:net'
import type {Duplex} from 'node:stream'
import type {AcceptConnection, RejectConnection, ServerChannel, TcpipBindInfo, TcpipRequestInfo} from 'ssh2'
import {EventCode, EventName, type EmitNamed, type EventFields} from '../../events/index.js'
import {joinHostPort} from '../../lib/net/ip.js'
import {listenOn} from '../../lib/net/listen-on.js'
import {certAllows, plainIp, type ConnectionContext} from './context.js'

// Port forwarding, only when the user's certificate carries permit-port-forwarding (a role with
// port_forwarding: true); refused otherwise. Every attempt is audited (`port`, T3003I/T3003E).
//   direct-tcpip:  `ssh -L` and `ssh -D` (the SOCKS part is the client's): the node dials out.
//   tcpip-forward: `ssh -R`: the node listens (on loopback, as sshd with GatewayPorts no) and
//                  opens a forwarded-tcpip channel back to the client per connection.
// The recording proxy relays both (recording-proxy/port-forwarding.ts) with the same check, audit
// and splice.

export const NOT_PERMITTED = 'port forwarding is not permitted by the user\'s roles'
const DIAL_TIMEOUT_MS = 15_000

/** The `port` event of one forwarding attempt: T3003I, or T3003E with why it failed. */
export function emitPortForward(emit: EmitNamed, fields: EventFields, addr: string, error?: string): void {
  emit(EventName.PortForward, error ? EventCode.PortForwardFailure : EventCode.PortForward, {...fields, addr, success: !error, ...(error ? {error} : {})})
}

function auditPort(conn: ConnectionContext, addr: string, error?: string): void {
  // Recording proxy mode: the proxy that carried this forward to us audited it; one copy.
  if (conn.endpoints.viaProxy === true && conn.node.recorder.recordsAtProxy()) return
  emitPortForward(conn.node.emit, conn.eventFields(), addr, error)
}

/** Pipes two streams into each other; either one ending or failing ends the other. */
export function spliceStreams(a: Duplex, b: Duplex): void {
  a.on('error', () => b.destroy())
  b.on('error', () => a.destroy())
  a.pipe(b).pipe(a)
  a.once('close', () => b.destroy())
  b.once('close', () => a.destroy())
}

/** A direct-tcpip channel open: dial the destination and splice. */
export function handleDirectTcpip(conn: ConnectionContext, accept: AcceptConnection<ServerChannel>, reject: RejectConnection, info: TcpipRequestInfo): void {
  const addr = joinHostPort(info.destIP, info.destPort)
  if (!certAllows(conn.cert, 'permit-port-forwarding')) {
    auditPort(conn, addr, NOT_PERMITTED)
    conn.node.log.debug(`refused forwarding to ${addr} for ${conn.user}: ${NOT_PERMITTED}`)
    return reject()
  }
  const socket = connect({host: info.destIP, port: info.destPort, timeout: DIAL_TIMEOUT_MS})
  const onError = (err: Error) => {
    auditPort(conn, addr, `cannot connect to ${addr}: ${err.message}`)
    socket.destroy()
    reject()
  }
  socket.once('error', onError)
  socket.once('timeout', () => onError(new Error('timed out')))
  socket.once('connect', () => {
    socket.off('error', onError)
    socket.setTimeout(0)
    auditPort(conn, addr)
    spliceStreams(socket, accept())
  })
}

/** The listeners of one connection's `ssh -R` requests. */
export class RemoteForwards {
  private readonly listeners = new Map<string, Server>()

  constructor(private readonly conn: ConnectionContext) {}

  handle(accept: ((port?: number) => void) | undefined, reject: (() => void) | undefined, name: string, info: TcpipBindInfo): void {
    if (name === 'tcpip-forward') return void this.listen(info, accept, reject)
    if (name === 'cancel-tcpip-forward') {
      const key = `${info.bindAddr}:${info.bindPort}`
      const server = this.listeners.get(key)
      if (!server) return reject?.()
      this.listeners.delete(key)
      server.close()
      return accept?.()
    }
    reject?.()
  }

  closeAll(): void {
    for (const server of this.listeners.values()) server.close()
    this.listeners.clear()
  }

  private async listen(info: TcpipBindInfo, accept: ((port?: number) => void) | undefined, reject: (() => void) | undefined): Promise<void> {
    const conn = this.conn
    const requested = joinHostPort(info.bindAddr || 'localhost', info.bindPort)
    if (!certAllows(conn.cert, 'permit-port-forwarding')) {
      auditPort(conn, requested, NOT_PERMITTED)
      return reject?.()
    }
    if (info.bindPort !== 0 && info.bindPort < 1024 && conn.osLogin.uid !== 0) {
      auditPort(conn, requested, `only root may forward privileged port ${info.bindPort}`)
      return reject?.()
    }
    // GatewayPorts no: whatever address was asked for, listen on loopback only.
    const host = info.bindAddr === '::1' || info.bindAddr === 'ip6-localhost' ? '::1' : '127.0.0.1'
    const server = createServer((socket) => {
      socket.pause()
      const remoteIp = plainIp(socket.remoteAddress)
      conn.client.forwardOut(info.bindAddr, port, remoteIp, socket.remotePort ?? 0, (err, channel) => {
        if (err) return socket.destroy()
        spliceStreams(socket, channel)
        socket.resume()
      })
    })
    let port = info.bindPort
    try {
      await listenOn(server, {host, port: info.bindPort})
    } catch (err) {
      auditPort(conn, requested, `cannot listen on ${joinHostPort(host, info.bindPort)}: ${(err as Error).message}`)
      return reject?.()
    }
    port = (server.address() as {port: number}).port
    this.listeners.set(`${info.bindAddr}:${info.bindPort}`, server)
    if (info.bindPort === 0) this.listeners.set(`${info.bindAddr}:${port}`, server)
    auditPort(conn, joinHostPort(host, port))
    accept?.(port)
  }
}
