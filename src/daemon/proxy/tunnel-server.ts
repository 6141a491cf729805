import type {Duplex} from 'node:stream'
import ssh2 from 'ssh2'
import type {Connection, ServerChannel} from 'ssh2'
import {EventCode, EventName, type EmitNamed} from '../../events/index.js'
import type {Clock} from '../../lib/clock.js'
import type {Logger} from '../../lib/log.js'
import type {ConnectionHandler, Endpoint, HandedConnection} from '../../lib/net/connection.js'
import {joinHostPort, plainIp} from '../../lib/net/ip.js'
import {StartupLimiter, type StartupLimits} from '../../lib/net/startup-limiter.js'
import {listenTcp, type TcpListener} from '../../lib/net/tcp-listener.js'
import {AuthAttempts, certifiedHostKey, type PublicKeyAuthAttempt} from '../../ssh/index.js'
import {handedConnection, injectGuarded, releaseOnLogin} from '../../ssh/startup-guard.js'
import {DISCOVERY_SUBSYSTEM, encodeDiscovery, TUNNEL_BIND, TUNNEL_KEEPALIVE_MAX_MISSES, TUNNEL_KEEPALIVE_MS, type ProxyDiscovery} from '../common/reverse-tunnel.js'
import {authenticateProxyClient, type CaKeyCache} from './client-auth.js'
import {parseProxySubsystem} from './subsystem-request.js'

// The proxy's reverse tunnel server (proxy_service.tunnel_listen_addr, 3024; the contract is in
// common/reverse-tunnel.ts). Nodes that cannot be dialled dial in here with their Node host
// certificate and keep the connection up; the proxy then reaches them only over it (dial()).
// It is a ConnectionHandler like the other servers, so a multiplexed port can hand it the
// connections it takes for ALPN `teleport-reversetunnel`.

export interface ReverseTunnelServerOptions {
  /** The proxy's host identity (a Proxy host certificate): what nodes check before trusting us. */
  identity: {privateKey: string; certificate: string}
  clusterName: string
  /** The host CA the nodes' certificates are checked against. */
  caKeys: CaKeyCache
  /** A node's auth API channel (`proxy:@<cluster>`): piped to auth like the SSH port's. */
  pipeToAuth: (channel: ServerChannel, clientAddr: string) => Promise<void>
  audit: EmitNamed
  log: Logger
  clock?: Clock
  startupLimits?: Partial<StartupLimits>
  /** The proxies to tell agents about (common/reverse-tunnel.ts, discovery); none: agents are told nothing. */
  discovery?: ProxyDiscovery
}

interface Tunnel {
  hostId: string
  addr: string
  conn: Connection
}

export class ReverseTunnelServer implements ConnectionHandler {
  private readonly ssh: ssh2.Server
  private listener: TcpListener | undefined
  private readonly startups: StartupLimiter
  private readonly connections = new Set<Connection>()
  /** Live tunnels by node host id, newest last (a node that reconnects may briefly have two). */
  private readonly tunnels = new Map<string, Tunnel[]>()

  constructor(private readonly options: ReverseTunnelServerOptions) {
    this.ssh = new ssh2.Server(
      {
        hostKeys: [certifiedHostKey(options.identity)],
        ident: 'Teleport',
        keepaliveInterval: TUNNEL_KEEPALIVE_MS,
        keepaliveCountMax: TUNNEL_KEEPALIVE_MAX_MISSES,
      } as ssh2.ServerConfig,
      (client) => {
        const conn = handedConnection(client)
        if (!conn) return client.end()
        this.onConnection(client, joinHostPort(plainIp(conn.remote.host), conn.remote.port), plainIp(conn.remote.host))
      },
    )
    this.startups = new StartupLimiter('reverse tunnel', options.log, options.startupLimits, options.clock)
  }

  handle(conn: HandedConnection): void {
    injectGuarded(this.ssh, this.startups, conn)
  }

  /** Accepts connections on host:port and hands them in; port 0 picks a free port. */
  async listen(host: string, port: number): Promise<Endpoint> {
    this.listener = await listenTcp({host, port}, this, (err) => this.options.log.error(`reverse tunnel listener: ${err.message}`))
    return this.listener.address
  }

  async close(): Promise<void> {
    const closed = this.listener?.close()
    for (const client of this.connections) client.end()
    this.startups.closeAll()
    await closed
  }

  /** Whether the node has a tunnel to this proxy now. */
  has(hostId: string): boolean {
    return (this.tunnels.get(hostId)?.length ?? 0) > 0
  }

  /**
   * A stream to the node's SSH server over its newest tunnel; `client` is what the node is told
   * as the channel's origin (the signed preamble that follows is what it believes).
   */
  dial(hostId: string, client: {host: string; port: number}): Promise<Duplex> {
    const tunnel = this.tunnels.get(hostId)?.at(-1)
    if (!tunnel) return Promise.reject(new Error('the node has no reverse tunnel to this proxy (is it running?)'))
    return new Promise((resolve, reject) => {
      tunnel.conn.forwardOut(TUNNEL_BIND.host, TUNNEL_BIND.port, client.host || '127.0.0.1', client.port, (err, channel) => {
        if (err) return reject(new Error(`the node refused a channel over its reverse tunnel: ${err.message}`))
        channel.on('error', () => {}) // until relay() listens
        resolve(channel as unknown as Duplex)
      })
    })
  }

  private onConnection(client: Connection, addr: string, ip: string): void {
    this.connections.add(client)
    releaseOnLogin(client, this.startups)
    let hostId: string | undefined
    const attempts = new AuthAttempts((refusal) =>
      this.options.audit(EventName.AuthAttempt, EventCode.AuthAttemptFailure, {user: refusal.user, login: refusal.login, 'addr.remote': addr, success: false, error: refusal.error}),
    )
    let tunnel: Tunnel | undefined
    client.on('error', () => {}) // a node vanishing is not our error
    client.on('close', () => {
      this.connections.delete(client)
      attempts.closed()
      if (tunnel) this.unregister(tunnel)
    })
    client.on('authentication', (ctx) => {
      if (ctx.method !== 'publickey') {
        attempts.otherMethodRefused(ctx.method, ctx.username)
        return ctx.reject(['publickey'])
      }
      const attempt = ctx as unknown as PublicKeyAuthAttempt
      void (async () => {
        try {
          const identity = authenticateProxyClient(attempt, (await this.options.caKeys.get()).value, ip)
          if (identity && (identity.kind !== 'host' || identity.role !== 'Node')) {
            throw new Error(`only nodes open reverse tunnels; this is a ${identity.kind === 'host' ? `${identity.role} host` : 'user'} certificate`)
          }
          if (identity) {
            hostId = identity.hostId
            attempts.succeeded()
          }
          ctx.accept()
        } catch (err) {
          this.options.log.debug(`refused reverse tunnel from ${addr}: ${(err as Error).message}`)
          attempts.publicKeyRefused({...attempt, username: ctx.username}, err)
          ctx.reject(['publickey'])
        }
      })()
    })
    client.on('ready', () => {
      client.on('request', (accept, reject, name, info) => {
        const bind = info as {bindAddr?: string; bindPort?: number} | undefined
        if (name !== 'tcpip-forward' || bind?.bindAddr !== TUNNEL_BIND.host || bind.bindPort !== TUNNEL_BIND.port || !hostId || tunnel) return reject?.()
        tunnel = {hostId, addr, conn: client}
        this.register(tunnel)
        accept?.()
      })
      client.on('session', (accept) => {
        const session = accept()
        session.on('subsystem', (acceptSubsystem, reject, {name}) => {
          if (name === DISCOVERY_SUBSYSTEM) {
            if (!this.options.discovery) return reject?.()
            return this.tellProxies(acceptSubsystem(), this.options.discovery)
          }
          let request
          try {
            request = parseProxySubsystem(name)
          } catch {
            return reject?.()
          }
          if (request.kind !== 'auth' || request.cluster !== this.options.clusterName) return reject?.()
          const channel = acceptSubsystem()
          void this.options.pipeToAuth(channel, addr)
        })
      })
      // Nothing else: a tunnel carries the proxy's channels to the node and the node's to auth.
      client.on('tcpip', (_accept, reject) => reject?.())
    })
  }

  /** The discovery channel: the current set of proxies at once, then again at each change. */
  private tellProxies(channel: ServerChannel, discovery: ProxyDiscovery): void {
    const send = () => {
      const proxies = discovery.current()
      if (proxies.length) channel.write(encodeDiscovery({type: 'discovery', clusterName: this.options.clusterName, proxies}))
    }
    const unsubscribe = discovery.onChange(send)
    channel.on('error', () => {})
    channel.on('close', unsubscribe)
    channel.on('data', () => {}) // the node says nothing on it
    send()
  }

  private register(tunnel: Tunnel): void {
    const list = this.tunnels.get(tunnel.hostId) ?? []
    list.push(tunnel)
    this.tunnels.set(tunnel.hostId, list)
    this.options.log.info(`Reverse tunnel from node ${tunnel.hostId} (${tunnel.addr}) is up.`)
  }

  private unregister(tunnel: Tunnel): void {
    const list = (this.tunnels.get(tunnel.hostId) ?? []).filter((t) => t !== tunnel)
    if (list.length) this.tunnels.set(tunnel.hostId, list)
    else this.tunnels.delete(tunnel.hostId)
    this.options.log.info(`Reverse tunnel from node ${tunnel.hostId} (${tunnel.addr}) closed.`)
  }
}
