import {createServer, type Server, type Socket} from 'node:net'
import ssh2 from 'ssh2'
import {UserError} from '../../lib/errors.js'
import {parseEndpoint} from '../../lib/net/ip.js'
import {StartupLimiter, type StartupLimits} from '../../lib/net/startup-limiter.js'
import {certifiedHostKey} from '../../ssh/index.js'
import {connectionSocket, releaseOnLogin} from '../../ssh/startup-guard.js'
import {verifyPreamble} from '../common/proxy-preamble.js'
import {formatHostPort} from '../../config/index.js'
import {handleConnection} from './connection.js'
import {plainIp, type Endpoints, type LiveConnection, type NodeContext} from './context.js'
import {readPreamble} from './preamble-reader.js'
import type {SessionChannel} from './session.js'

// The node's SSH listener. Each TCP connection first gets a look for the proxy's signed preamble
// (the real client address when the proxy relays); then ssh2 takes the socket. ssh2 presents the
// node's host certificate (and the plain key to clients that do not ask for certificates).
// From accept to login a connection is counted and has a deadline (startup-limiter.ts), under
// the client's address: the proxy's vouched one once the preamble is verified.

export interface NodeSshServerOptions {
  node: NodeContext
  hostKey: {privateKey: string; certificate: string}
  /** Login deadline and caps on unauthenticated connections (tests shorten them). */
  startupLimits?: Partial<StartupLimits>
}

export class NodeSshServer {
  private readonly tcp: Server
  private readonly ssh: ssh2.Server
  private readonly startups: StartupLimiter
  private readonly sockets = new Set<Socket>()
  private readonly endpoints = new WeakMap<object, Endpoints>()
  readonly sessions = new Set<SessionChannel>()
  readonly connections = new Set<LiveConnection>()

  constructor(private readonly options: NodeSshServerOptions) {
    const {node} = options
    this.startups = new StartupLimiter('SSH node', node.log, options.startupLimits)
    this.ssh = new ssh2.Server({hostKeys: [certifiedHostKey(options.hostKey)], ident: 'Teleport'}, (client) => {
      const socket = connectionSocket(client)
      const endpoints = this.endpoints.get(socket)
      if (!endpoints) return client.end()
      releaseOnLogin(client, this.startups)
      handleConnection(node, client, endpoints, this.sessions, this.connections)
    })
    this.ssh.on('error', (err: Error) => node.log.warn(`SSH server: ${err.message}`))
    this.tcp = createServer((socket) => void this.onSocket(socket))
  }

  async listen(host: string, port: number): Promise<{host: string; port: number}> {
    await new Promise<void>((resolve, reject) => {
      const onError = (err: NodeJS.ErrnoException) => reject(listenError(err, host, port))
      this.tcp.once('error', onError)
      this.tcp.listen(port, host, () => {
        this.tcp.off('error', onError)
        resolve()
      })
    })
    this.tcp.on('error', (err) => this.options.node.log.warn(`SSH listener: ${err.message}`))
    const address = this.tcp.address() as {address: string; port: number}
    return {host, port: address.port}
  }

  /** Ends the connections that a lock or a user's deletion now refuses. */
  enforceAccess(): void {
    const {node} = this.options
    for (const connection of this.connections) {
      const refusal = node.access.refusal({user: connection.user, roles: connection.roles, node: node.hostUuid})
      if (refusal) void connection.end(refusal)
    }
  }

  async close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.tcp.close(() => resolve()))
    for (const session of this.sessions) session.terminate()
    for (const socket of this.sockets) socket.destroy()
    await closed
  }

  private async onSocket(socket: Socket): Promise<void> {
    const {node} = this.options
    this.sockets.add(socket)
    // As on the proxy (proxy/ssh-server.ts): ssh2 writes whole packets, Nagle would only delay
    // our window adjusts to the client.
    socket.setNoDelay(true)
    socket.once('close', () => this.sockets.delete(socket))
    socket.on('error', () => {})
    if (!this.startups.admit(socket, plainIp(socket.remoteAddress))) return
    const endpoints: Endpoints = {
      remoteIp: plainIp(socket.remoteAddress),
      remotePort: socket.remotePort ?? 0,
      localIp: plainIp(socket.localAddress),
      localPort: socket.localPort ?? 0,
    }
    try {
      const line = await readPreamble(socket)
      if (line !== undefined) {
        const vouched = verifyPreamble(line, {hostCAs: node.hostCAs(), clusterName: node.clusterName})
        const src = parseEndpoint(vouched.src)
        if (!src) throw new Error(`the proxy preamble names an unreadable client address "${vouched.src}"`)
        endpoints.remoteIp = plainIp(src.host)
        endpoints.remotePort = src.port
        if (!this.startups.moveTo(socket, endpoints.remoteIp)) return
      }
    } catch (err) {
      node.log.warn(`Closing a connection from ${socket.remoteAddress}: bad proxy preamble: ${(err as Error).message}`)
      socket.destroy()
      return
    }
    if (socket.destroyed) return
    this.endpoints.set(socket, endpoints)
    this.ssh.injectSocket(socket)
  }
}

function listenError(err: NodeJS.ErrnoException, host: string, port: number): Error {
  const where = formatHostPort({host, port})
  if (err.code === 'EADDRINUSE') return new UserError(`cannot listen on ${where}: the address is already in use`, {hint: 'is sshd or another teleport using it? choose another with ssh_service.listen_addr'})
  if (err.code === 'EACCES') return new UserError(`cannot listen on ${where}: permission denied`, {hint: 'ports below 1024 need root'})
  if (err.code === 'EADDRNOTAVAIL') return new UserError(`cannot listen on ${where}: no such address on this host`)
  return err
}
