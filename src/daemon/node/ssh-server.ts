import type {Socket} from 'node:net'
import type {Duplex} from 'node:stream'
import ssh2 from 'ssh2'
import {UserError} from '../../lib/errors.js'
import type {ConnectionHandler, Endpoint, HandedConnection} from '../../lib/net/connection.js'
import {parseEndpoint} from '../../lib/net/ip.js'
import {StartupLimiter, type StartupLimits} from '../../lib/net/startup-limiter.js'
import {listenTcp, type TcpListener} from '../../lib/net/tcp-listener.js'
import {certifiedHostKey} from '../../ssh/index.js'
import {connectionSocket, releaseOnLogin} from '../../ssh/startup-guard.js'
import {verifyPreamble} from '../common/proxy-preamble.js'
import {formatHostPort} from '../../config/index.js'
import {handleConnection} from './connection.js'
import {plainIp, type Endpoints, type LiveConnection, type NodeContext} from './context.js'
import {readPreamble} from './preamble-reader.js'
import {SessionRegistry} from './session/registry.js'

// The node's SSH server, on the connections handed to it (listen() hands in those of its port).
// Each connection first gets a look for the proxy's signed preamble (the real client address
// when the proxy relays); then ssh2 takes the stream. ssh2 presents the node's host certificate
// (and the plain key to clients that do not ask for certificates).
// From hand-in to login a connection is counted and has a deadline (startup-limiter.ts); once
// the preamble is verified it is no longer counted (the proxy relays only clients it authenticated
// and limited them while they were anonymous), the deadline kept.

export interface NodeSshServerOptions {
  node: NodeContext
  hostKey: {privateKey: string; certificate: string}
  /** Login deadline and caps on unauthenticated connections (tests shorten them). */
  startupLimits?: Partial<StartupLimits>
}

export class NodeSshServer implements ConnectionHandler {
  private listener: TcpListener | undefined
  private ssh: ssh2.Server
  private readonly startups: StartupLimiter
  private readonly streams = new Set<Duplex>()
  private readonly endpoints = new WeakMap<object, Endpoints>()
  readonly sessions = new SessionRegistry()
  readonly connections = new Set<LiveConnection>()

  constructor(private readonly options: NodeSshServerOptions) {
    const {node} = options
    this.startups = new StartupLimiter('SSH node', node.log, options.startupLimits, node.clock)
    this.ssh = this.sshServer(options.hostKey)
  }

  /** Presents `hostKey` to connections from now on (a CA rotation's new host certificate); running ones keep theirs. */
  setHostKey(hostKey: {privateKey: string; certificate: string}): void {
    this.ssh = this.sshServer(hostKey)
  }

  // An ssh2 Server fixes its host keys when made: a new key means a new Server for new connections.
  private sshServer(hostKey: {privateKey: string; certificate: string}): ssh2.Server {
    const {node} = this.options
    const ssh = new ssh2.Server({hostKeys: [certifiedHostKey(hostKey)], ident: 'Teleport'}, (client) => {
      const socket = connectionSocket(client)
      const endpoints = this.endpoints.get(socket)
      if (!endpoints) return client.end()
      releaseOnLogin(client, this.startups)
      handleConnection(node, client, endpoints, this.sessions, this.connections)
    })
    ssh.on('error', (err: Error) => node.log.warn(`SSH server: ${err.message}`))
    return ssh
  }

  handle(conn: HandedConnection): void {
    this.onConnection(conn)
  }

  /** Accepts connections on host:port and hands them in; port 0 picks a free port. */
  async listen(host: string, port: number): Promise<Endpoint> {
    try {
      this.listener = await listenTcp({host, port}, this, (err) => this.options.node.log.warn(`SSH listener: ${err.message}`))
    } catch (err) {
      throw listenError(err as NodeJS.ErrnoException, host, port)
    }
    return this.listener.address
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
    const closed = this.listener?.close()
    for (const session of this.sessions) session.terminate()
    for (const stream of this.streams) stream.destroy()
    await closed
  }

  private onConnection(conn: HandedConnection): void {
    const {stream} = conn
    this.streams.add(stream)
    stream.once('close', () => this.streams.delete(stream))
    stream.on('error', () => {})
    this.startups.admit(stream, plainIp(conn.remote.host), () => void this.onStarted(conn))
  }

  /** The limiter let the connection start: its proxy preamble, if any, then SSH. */
  private async onStarted(conn: HandedConnection): Promise<void> {
    const {node} = this.options
    const {stream} = conn
    const endpoints: Endpoints = {
      remoteIp: plainIp(conn.remote.host),
      remotePort: conn.remote.port,
      localIp: plainIp(conn.local.host),
      localPort: conn.local.port,
    }
    try {
      const line = await readPreamble(stream, undefined, node.clock)
      if (line !== undefined) {
        const vouched = verifyPreamble(line, {hostCAs: node.hostCAs(), clusterName: node.clusterName}, node.clock.now())
        const src = parseEndpoint(vouched.src)
        if (!src) throw new Error(`the proxy preamble names an unreadable client address "${vouched.src}"`)
        endpoints.remoteIp = plainIp(src.host)
        endpoints.remotePort = src.port
        endpoints.viaProxy = true
        this.startups.vouched(stream)
      }
    } catch (err) {
      node.log.warn(`Closing a connection from ${conn.remote.host}: bad proxy preamble: ${(err as Error).message}`)
      stream.destroy()
      return
    }
    if (stream.destroyed) return
    this.endpoints.set(stream, endpoints)
    this.ssh.injectSocket(stream as Socket) // typed for a Socket, ssh2 uses only the Duplex calls
  }
}

function listenError(err: NodeJS.ErrnoException, host: string, port: number): Error {
  const where = formatHostPort({host, port})
  if (err.code === 'EADDRINUSE') return new UserError(`cannot listen on ${where}: the address is already in use`, {hint: 'is sshd or another teleport using it? choose another with ssh_service.listen_addr'})
  if (err.code === 'EACCES') return new UserError(`cannot listen on ${where}: permission denied`, {hint: 'ports below 1024 need root'})
  if (err.code === 'EADDRNOTAVAIL') return new UserError(`cannot listen on ${where}: no such address on this host`)
  return err
}
