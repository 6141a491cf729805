import http from 'node:http'
import type {Duplex} from 'node:stream'
import ssh2 from 'ssh2'
import type {Connection, ServerChannel} from 'ssh2'
import type {Logger} from '../lib/log.js'
import type {ConnectionHandler, Endpoint, HandedConnection} from '../lib/net/connection.js'
import {joinHostPort} from '../lib/net/ip.js'
import {listenTcp, type TcpListener} from '../lib/net/tcp-listener.js'
import {StartupLimiter, type StartupLimits} from '../lib/net/startup-limiter.js'
import {AuthAttempts, certifiedHostKey, type AuthRefusal, type CertifiedHostKeyInput, type PublicKeyAuthAttempt} from '../ssh/index.js'
import {connectionSocket, handedConnection, injectGuarded} from '../ssh/startup-guard.js'
import {authenticateCaller, type CallerTrust} from './caller-auth.js'
import type {ApiIdentity} from './identity.js'
import type {Router} from './router.js'

// The auth API's server: SSH on the connections handed to it (listen() hands in those of the auth
// port), authenticated by certificates; each "teleport-api" subsystem channel carries HTTP/1.1 to
// an in-process http.Server that never listens on its own. The caller's identity rides along
// with the channel.

export const API_SUBSYSTEM = 'teleport-api'

export interface ApiServerOptions {
  hostKey: CertifiedHostKeyInput
  /** Called for each connection so CA changes (rotation) take effect at once. */
  trust: () => Promise<CallerTrust> | CallerTrust
  router: Router
  /** Refused authentications worth auditing (AuthAttempts decides which); `remoteAddr` is host:port. */
  onAuthFailure?: (refusal: AuthRefusal & {remoteAddr: string}) => void
  onInternalError?: (err: unknown) => void
  /** Where refused floods of unauthenticated connections are reported. */
  log?: Pick<Logger, 'warn' | 'debug'>
  /** Login deadline and caps on unauthenticated connections (tests shorten them). */
  startupLimits?: Partial<StartupLimits>
}

type ChannelSocket = Duplex & {remoteAddress?: string}

export class ApiServer implements ConnectionHandler {
  private ssh: ssh2.Server
  private listener: TcpListener | undefined
  private readonly startups: StartupLimiter
  private readonly http: http.Server
  private readonly identities = new WeakMap<object, ApiIdentity>()
  private readonly connections = new Set<Connection>()

  constructor(private readonly options: ApiServerOptions) {
    // No whole-request deadline (node's default cuts a request at 5 minutes): a recording upload
    // or download streams for as long as it takes. Headers still have to arrive within
    // headersTimeout, and only callers that passed the SSH handshake reach this server.
    this.http = http.createServer({requestTimeout: 0}, (req, res) => {
      const identity = this.identities.get(req.socket)
      if (!identity) {
        res.destroy()
        return
      }
      void options.router.serve(req, res, identity, options.onInternalError ?? (() => {}))
    })
    // No keep-alive hint: the client decides how long an idle channel stays open (client.ts), so
    // a node's heartbeat every minute reuses its channel instead of opening one per request.
    this.http.keepAliveTimeout = 0
    this.ssh = this.sshServer(options.hostKey)
    this.startups = new StartupLimiter('auth API', options.log ?? {warn: () => {}, debug: () => {}}, options.startupLimits)
  }

  handle(conn: HandedConnection): void {
    injectGuarded(() => this.ssh, this.startups, conn)
  }

  /** Presents `hostKey` to connections from now on (a CA rotation's new certificate); open ones keep theirs. */
  setHostKey(hostKey: CertifiedHostKeyInput): void {
    this.ssh = this.sshServer(hostKey)
  }

  // An ssh2 Server fixes its host keys when made: a new key means a new Server for new connections.
  private sshServer(hostKey: CertifiedHostKeyInput): ssh2.Server {
    return new ssh2.Server({hostKeys: [certifiedHostKey(hostKey)]}, (client) => {
      const conn = handedConnection(client)
      if (!conn) return client.end()
      this.onConnection(client, conn.remote.host, conn.remote.port)
    })
  }

  /** Accepts connections on host:port and hands them in; port 0 picks a free port. */
  async listen(host: string, port: number): Promise<Endpoint> {
    this.listener = await listenTcp({host, port}, this)
    return this.listener.address
  }

  private onConnection(client: Connection, remoteAddr: string, remotePort: number): void {
    this.connections.add(client)
    let identity: ApiIdentity | undefined
    const endpoint = joinHostPort(remoteAddr, remotePort)
    const attempts = new AuthAttempts((refusal) => this.options.onAuthFailure?.({...refusal, remoteAddr: endpoint}))
    client.on('close', () => {
      this.connections.delete(client)
      attempts.closed()
    })
    client.on('error', () => {}) // a client going away mid-handshake is not our error
    client.on('authentication', (ctx) => {
      if (ctx.method !== 'publickey') {
        attempts.otherMethodRefused(ctx.method, ctx.username)
        return ctx.reject(['publickey'])
      }
      void (async () => {
        try {
          const trust = await this.options.trust()
          const result = authenticateCaller(ctx as unknown as PublicKeyAuthAttempt, trust, remoteAddr, true)
          if (result.identity) {
            identity = result.identity
            attempts.succeeded()
          }
          ctx.accept()
        } catch (err) {
          attempts.publicKeyRefused(ctx as unknown as PublicKeyAuthAttempt & {username: string}, err)
          ctx.reject(['publickey'])
        }
      })()
    })
    client.on('ready', () => {
      // A key without a certificate may only join, which takes a moment: the deadline still applies.
      if (identity?.kind !== 'anonymous') this.startups.authenticated(connectionSocket(client))
      client.on('session', (accept) => {
        const session = accept()
        session.on('subsystem', (acceptSubsystem, reject, info) => {
          if (info.name !== API_SUBSYSTEM || !identity) return reject()
          this.serveChannel(acceptSubsystem(), identity)
        })
      })
    })
  }

  private serveChannel(channel: ServerChannel, identity: ApiIdentity): void {
    const socket = channel as unknown as ChannelSocket
    // node's http server treats the channel as a socket; give it the socket calls it makes.
    Object.assign(socket, {remoteAddress: identity.remoteAddr, setTimeout: () => socket, setNoDelay: () => socket, setKeepAlive: () => socket})
    this.identities.set(socket, identity)
    this.http.emit('connection', socket)
  }

  async close(): Promise<void> {
    const closed = this.listener?.close()
    for (const client of this.connections) client.end()
    this.startups.closeAll()
    await closed
    this.http.close()
  }
}
