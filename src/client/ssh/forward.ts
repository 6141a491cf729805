import net from 'node:net'
import type {Duplex} from 'node:stream'
import type ssh2 from 'ssh2'
import {UserError} from '../../lib/errors.js'
import {listenOn} from '../../lib/net/listen-on.js'
import {formatHostPort} from '../proxy-addr.js'
import type {DynamicForwardSpec, ForwardSpec} from './forward-spec.js'
import {acceptSocks5, SocksReply} from './socks5.js'

// Port forwarding over an established node connection:
//   -L  a local listener; each connection becomes a direct-tcpip channel to host:port from the node
//   -R  the node listens (tcpip-forward); each connection it accepts comes back and is dialled here
//   -D  a local SOCKS5 server; each CONNECT becomes a direct-tcpip channel
// A node whose role forbids forwarding refuses each channel; the refusal is reported per connection.

export type Report = (line: string) => void

/**
 * Joins two streams both ways. An end (EOF) is passed on as an end, so half-closed protocols work
 * and nothing buffered is lost; an error or an abrupt close of one side tears down the other.
 */
export function splice(a: Duplex, b: Duplex): void {
  a.on('error', () => b.destroy())
  b.on('error', () => a.destroy())
  a.once('close', () => {
    if (!a.readableEnded) b.destroy()
  })
  b.once('close', () => {
    if (!b.readableEnded) a.destroy()
  })
  a.pipe(b)
  b.pipe(a)
}

function openDirect(client: ssh2.Client, source: net.Socket, host: string, port: number): Promise<ssh2.ClientChannel> {
  return new Promise((resolve, reject) => {
    client.forwardOut(source.remoteAddress ?? '127.0.0.1', source.remotePort ?? 0, host, port, (err, channel) => (err ? reject(err) : resolve(channel)))
  })
}

async function listen(server: net.Server, host: string, port: number, flag: string): Promise<void> {
  try {
    await listenOn(server, {host, port})
  } catch (err) {
    const {code, message} = err as NodeJS.ErrnoException
    const why = code === 'EADDRINUSE' ? 'the address is in use' : code === 'EACCES' ? 'permission denied' : message
    throw new UserError(`${flag}: cannot listen on ${formatHostPort({host, port})}: ${why}`)
  }
}

/** -L: listens now; resolves once listening. */
export async function startLocalForward(client: ssh2.Client, spec: ForwardSpec, report: Report): Promise<net.Server> {
  const server = net.createServer({allowHalfOpen: true}, (socket) => {
    socket.on('error', () => {})
    openDirect(client, socket, spec.destHost, spec.destPort).then(
      (channel) => splice(socket, channel as unknown as Duplex),
      (err: Error) => {
        report(`channel open failed: connect to ${formatHostPort({host: spec.destHost, port: spec.destPort})} (-L ${spec.text}): ${err.message}`)
        socket.destroy()
      },
    )
  })
  await listen(server, spec.bindHost, spec.bindPort, `-L ${spec.text}`)
  return server
}

/** -D: a SOCKS5 server; resolves once listening. */
export async function startDynamicForward(client: ssh2.Client, spec: DynamicForwardSpec, report: Report): Promise<net.Server> {
  const server = net.createServer({allowHalfOpen: true}, (socket) => {
    socket.on('error', () => {})
    void (async () => {
      let request
      try {
        request = await acceptSocks5(socket)
      } catch (err) {
        report(`-D ${spec.text}: ${(err as Error).message}`)
        socket.destroy()
        return
      }
      try {
        const channel = await openDirect(client, socket, request.host, request.port)
        request.reply(SocksReply.succeeded)
        splice(socket, channel as unknown as Duplex)
        socket.resume()
      } catch (err) {
        report(`channel open failed: connect to ${formatHostPort({host: request.host, port: request.port})} (-D ${spec.text}): ${(err as Error).message}`)
        request.reply(/prohibited/i.test((err as Error).message) ? SocksReply.notAllowed : SocksReply.hostUnreachable)
      }
    })()
  })
  await listen(server, spec.bindHost, spec.bindPort, `-D ${spec.text}`)
  return server
}

/**
 * -R: asks the node to listen. Connections it accepts arrive as 'tcp connection' events on the
 * client; one RemoteForwards routes them all by the port the node bound.
 */
export class RemoteForwards {
  private readonly byPort = new Map<number, ForwardSpec>()

  constructor(
    private readonly client: ssh2.Client,
    private readonly report: Report,
  ) {
    client.on('tcp connection', (details, accept, reject) => {
      const spec = this.byPort.get(details.destPort)
      if (!spec) return reject()
      const socket = net.connect({port: spec.destPort, host: spec.destHost, allowHalfOpen: true})
      socket.once('connect', () => splice(socket, accept() as unknown as Duplex))
      socket.once('error', (err) => {
        report(`-R ${spec.text}: connect to ${formatHostPort({host: spec.destHost, port: spec.destPort})} failed: ${err.message}`)
        reject()
      })
    })
  }

  /** Resolves with the port the node listens on (the one asked for, or the one it chose for 0). */
  add(spec: ForwardSpec): Promise<number> {
    return new Promise((resolve, reject) => {
      this.client.forwardIn(spec.bindHost, spec.bindPort, (err, port) => {
        if (err) return reject(new UserError(`-R ${spec.text}: the node refused remote port forwarding: ${err.message}`))
        const bound = spec.bindPort === 0 ? port : spec.bindPort
        this.byPort.set(bound, spec)
        if (spec.bindPort === 0) this.report(`Allocated port ${bound} for remote forward to ${formatHostPort({host: spec.destHost, port: spec.destPort})}`)
        resolve(bound)
      })
    })
  }
}
