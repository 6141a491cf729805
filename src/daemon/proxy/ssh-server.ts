import ssh2 from 'ssh2'
import type {Connection, ServerChannel} from 'ssh2'
import type {ProxyAuthApi} from '../../api/auth-api.js'
import type {AuthServers} from '../../api/auth-servers.js'
import {EventCode, EventName, type EmitNamed, type EventFields} from '../../events/index.js'
import type {Clock} from '../../lib/clock.js'
import {AccessDeniedError} from '../../lib/errors.js'
import {CertificateError} from '../../sshca/index.js'
import type {Logger} from '../../lib/log.js'
import type {ConnectionHandler, Endpoint, HandedConnection} from '../../lib/net/connection.js'
import {joinHostPort, plainIp} from '../../lib/net/ip.js'
import {listenTcp, type TcpListener} from '../../lib/net/tcp-listener.js'
import {StartupLimiter, type StartupLimits} from '../../lib/net/startup-limiter.js'
import {AuthAttempts, certifiedHostKey, type PublicKeyAuthAttempt} from '../../ssh/index.js'
import {rejectChannelSaying, sendAuthBanner} from '../../ssh/server-internals.js'
import {handedConnection, injectGuarded, releaseOnLogin} from '../../ssh/startup-guard.js'
import type {AccessCache} from '../common/access-cache.js'
import {authenticateProxyClient, type CaKeyCache, type ProxyClient} from './client-auth.js'
import type {Resolver} from './node-lookup.js'
import {dialAuthServer} from './auth-dialer.js'
import type {NodeDialer} from './node-dialer.js'
import {NodeRouter, type RouteClient} from './node-route.js'
import {channelClosed, relay} from './relay.js'
import {isProxySubsystem, parseProxySubsystem, type ProxyRequest} from './subsystem-request.js'

// The proxy's SSH server, on the connections handed to it (listen() hands in those of the SSH
// port). Clients authenticate with cluster certificates and open one session whose only use is
// the `proxy:` subsystem, or direct-tcpip channels (OpenSSH's ProxyJump): the proxy finds the
// target, dials it (node-dialer.ts) and relays the bytes. No shell, no exec, no other
// forwarding: the proxy holds no session and decrypts nothing, except in recording proxy mode,
// where the router hands the relayed stream to the proxy's own SSH server for that node
// (recording-proxy/).
// It keeps no state of its own, so a restart loses nothing.


export interface ProxySshServerOptions {
  /** The proxy's host identity (a Proxy host certificate): presented to clients, signs preambles. */
  identity: {privateKey: string; certificate: string}
  clusterName: string
  authApi: ProxyAuthApi
  /** Where `proxy:@<cluster>` pipes to: the auth servers this proxy uses, the one in use first. */
  authServers: AuthServers
  caKeys: CaKeyCache
  /** Locks and deleted users: refused here before any node is dialled. */
  access: AccessCache
  /** Audit events wait here (and on disk) while auth is away. */
  audit: EmitNamed
  log: Logger
  resolve?: Resolver
  /** How nodes are reached (default: TCP to their address). */
  dialer?: NodeDialer
  dialTimeoutMs?: number
  clock?: Clock
  /** Login deadline and caps on unauthenticated connections (tests shorten them). */
  startupLimits?: Partial<StartupLimits>
}

interface ClientInfo {
  identity: ProxyClient
  /** ip:port as seen here. */
  addr: string
  /** The login the client asked for (the node checks it). */
  login: string
}

export class ProxySshServer implements ConnectionHandler {
  private ssh: ssh2.Server
  private listener: TcpListener | undefined
  private readonly startups: StartupLimiter
  private readonly connections = new Set<Connection>()
  /** Finds, dials and audits nodes; the web terminal routes through it too. */
  readonly router: NodeRouter
  /** Aborts dials in flight when the server closes. */
  private readonly closing = new AbortController()

  constructor(private readonly options: ProxySshServerOptions) {
    this.router = new NodeRouter(options)
    this.ssh = this.sshServer()
    this.startups = new StartupLimiter('SSH proxy', options.log, options.startupLimits, options.clock)
  }

  handle(conn: HandedConnection): void {
    injectGuarded(() => this.ssh, this.startups, conn)
  }

  /**
   * Presents the identity's certificate as it is now to connections from now on (a CA rotation
   * renewed it); running connections keep theirs. Preambles read the identity at each dial.
   */
  reloadHostKey(): void {
    this.ssh = this.sshServer()
  }

  // An ssh2 Server fixes its host keys when made: a new certificate means a new Server.
  private sshServer(): ssh2.Server {
    return new ssh2.Server({hostKeys: [certifiedHostKey(this.options.identity)], ident: 'Teleport'}, (client) => {
      const conn = handedConnection(client)
      if (!conn) return client.end()
      this.onConnection(client, plainIp(conn.remote.host), conn.remote.port)
    })
  }

  /** Accepts connections on host:port and hands them in; port 0 picks a free port. */
  async listen(host: string, port: number): Promise<Endpoint> {
    this.listener = await listenTcp({host, port}, this, (err) => this.options.log.error(`SSH proxy listener: ${err.message}`))
    return this.listener.address
  }

  async close(): Promise<void> {
    const closed = this.listener?.close()
    this.closing.abort()
    for (const client of this.connections) client.end()
    this.startups.closeAll()
    await closed
  }

  private onConnection(client: Connection, ip: string, port: number): void {
    this.connections.add(client)
    releaseOnLogin(client, this.startups)
    const addr = joinHostPort(ip, port)
    let info: ClientInfo | undefined
    let bannerSent = false
    const attempts = new AuthAttempts((refusal) =>
      this.audit(EventName.AuthAttempt, EventCode.AuthAttemptFailure, {user: refusal.user, login: refusal.login, 'addr.remote': addr, success: false, error: refusal.error}),
    )
    client.on('close', () => {
      this.connections.delete(client)
      attempts.closed()
    })
    client.on('error', () => {}) // a client vanishing mid-handshake is not our error
    client.on('authentication', (ctx) => {
      if (ctx.method !== 'publickey') {
        attempts.otherMethodRefused(ctx.method, ctx.username)
        return ctx.reject(['publickey'])
      }
      const attempt = ctx as unknown as PublicKeyAuthAttempt
      void (async () => {
        try {
          const identity = authenticateProxyClient(attempt, (await this.options.caKeys.get()).value, ip)
          if (identity?.kind === 'user') {
            const refused = await this.options.access.check({user: identity.username, roles: identity.roles})
            if (refused) throw new AccessDeniedError(refused)
          }
          if (identity) {
            info = {identity, addr, login: ctx.username}
            attempts.succeeded()
          }
          ctx.accept()
        } catch (err) {
          // A refusal is the client's business; anything else (auth away too long to vouch for the CA keys) is worth a warning.
          if (err instanceof AccessDeniedError) this.options.log.debug(`refused SSH client ${addr}: ${err.message}`)
          else this.options.log.warn(`cannot check the certificate of SSH client ${addr}: ${(err as Error).message}`)
          // A valid certificate turned away by a lock or a deletion: say why, once (logging in again would not help).
          if (attempt.signature && err instanceof AccessDeniedError && !(err instanceof CertificateError) && !bannerSent) {
            bannerSent = true
            sendAuthBanner(client, err.message)
          }
          attempts.publicKeyRefused({...attempt, username: ctx.username}, err)
          ctx.reject(['publickey'])
        }
      })()
    })
    client.on('ready', () => {
      client.on('tcpip', (accept, reject, dest) => {
        if (!info) return reject?.()
        const who = info
        void this.jump(client, accept, reject, dest, who).catch((err) => {
          this.options.log.warn(`direct-tcpip for ${who.addr}: ${(err as Error).message}`)
          rejectChannelSaying(client, reject, (err as Error).message)
        })
      })
      client.on('session', (accept) => {
        const session = accept()
        // Clients that forward their agent by habit (tsh proxy ssh) are not refused; the agent is never used.
        session.on('auth-agent', (acceptAgent) => acceptAgent?.())
        session.on('subsystem', (acceptSubsystem, reject, { name }) => {
          if (!info || !isProxySubsystem(name)) return reject?.()
          const channel = acceptSubsystem()
          const who = info
          void this.route(channel, name, who).catch((err) => {
            this.options.log.warn(`${name} for ${who.addr}: ${(err as Error).message}`)
            fail(channel, `error: ${(err as Error).message}`)
          })
        })
      })
    })
  }

  /**
   * ProxyJump (`ssh -J user@proxy:3023 login@node.<cluster>`): OpenSSH opens a direct-tcpip
   * channel to the node; it is looked up, refused, dialled and audited as the `proxy:` subsystem
   * does, and the bytes relayed. The node authenticates the user's certificate and login itself.
   */
  private async jump(client: Connection, accept: () => ServerChannel, reject: (() => void) | undefined, dest: {destIP: string; destPort: number}, who: ClientInfo): Promise<void> {
    const refuse = (message: string) => rejectChannelSaying(client, reject, message.replace(/^error: /, '').split('\n')[0]!)
    if (who.identity.kind !== 'user') return refuse('hosts may not open channels through the proxy')
    const suffix = `.${this.options.clusterName}`
    const host = dest.destIP.endsWith(suffix) ? dest.destIP.slice(0, -suffix.length) : dest.destIP
    const lookup = {host, ...(dest.destPort ? {port: dest.destPort} : {})}
    // The login is inside the stream OpenSSH runs through this channel: unknown here.
    const routed = await this.router.route(lookup, {...routeClient(who), loginUnknown: true}, `direct-tcpip:${joinHostPort(dest.destIP, dest.destPort)}`, {signal: this.closing.signal})
    if (!routed.ok) return refuse(routed.kind === 'ambiguous' ? `ambiguous host "${host}" could match multiple nodes; address the node by its unique id (tsh ls -v)` : routed.message)
    await relay(accept(), routed.stream, {session: false})
  }

  private async route(channel: ServerChannel, name: string, client: ClientInfo): Promise<void> {
    let request: ProxyRequest
    try {
      request = parseProxySubsystem(name)
    } catch (err) {
      return fail(channel, `error: ${(err as Error).message}`)
    }
    if (request.cluster !== undefined && request.cluster !== this.options.clusterName) {
      return fail(channel, `error: cluster "${request.cluster}" is not found (this proxy serves "${this.options.clusterName}")`)
    }
    if (request.kind === 'auth') return this.pipeToAuth(channel, client.addr)
    if (client.identity.kind !== 'user') {
      const error = 'hosts may only open proxy:@<cluster> (the auth API) through the proxy'
      this.audit(EventName.AuthAttempt, EventCode.AuthAttemptFailure, {user: client.identity.hostId, login: client.login, 'addr.remote': client.addr, success: false, error})
      return fail(channel, `error: ${error}`)
    }

    const lookup = {host: request.host, ...(request.port !== undefined ? {port: request.port} : {})}
    const routed = await this.router.route(lookup, routeClient(client), name, {signal: this.closing.signal})
    if (!routed.ok) return fail(channel, routed.message)
    await relay(channel, routed.stream)
  }

  /** Pipes the channel to the auth API (`proxy:@<cluster>`); the reverse tunnel server's nodes reach auth this way too. */
  async pipeToAuth(channel: ServerChannel, clientAddr: string): Promise<void> {
    let socket
    try {
      socket = await dialAuthServer(this.options.authServers, {timeoutMs: this.options.dialTimeoutMs, signal: this.closing.signal})
    } catch (err) {
      this.options.log.warn(`cannot reach ${this.options.authServers.describe()} for ${clientAddr}: ${(err as Error).message}`)
      return fail(channel, `failed to connect to the auth server: ${(err as Error).message}`)
    }
    await relay(channel, socket)
  }

  private audit(name: EventName, code: EventCode, fields: EventFields): void {
    this.options.audit(name, code, fields)
  }
}

function routeClient(client: ClientInfo): RouteClient {
  const user = client.identity.kind === 'user' ? client.identity.username : `${client.identity.role.toLowerCase()}:${client.identity.hostId}`
  const access = client.identity.kind === 'user' ? {access: {roles: client.identity.roles, traits: client.identity.traits}} : {}
  return {user, login: client.login, addr: client.addr, ...access}
}

/** Writes the message to the channel's stderr, exit-status 1, and closes it. */
function fail(channel: ServerChannel, message: string): void {
  if (channelClosed(channel)) return
  channel.stderr.write(message.endsWith('\n') ? message : `${message}\n`)
  channel.exit(1)
  channel.end()
}
