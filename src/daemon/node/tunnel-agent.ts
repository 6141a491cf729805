import type {Duplex} from 'node:stream'
import ssh2 from 'ssh2'
import type {ClientChannel} from 'ssh2'
import {ALPN_REVERSE_TUNNEL, dialAlpn} from '../../api/alpn.js'
import {systemClock, type Clock, type Timer} from '../../lib/clock.js'
import {UserError} from '../../lib/errors.js'
import type {Logger} from '../../lib/log.js'
import type {ConnectionHandler} from '../../lib/net/connection.js'
import {formatHostPort, type HostPort} from '../../config/index.js'
import {verifyCert} from '../../sshca/index.js'
import {CERT_HOST_KEY_ALGORITHMS, withHostKeyAlgorithms} from '../../ssh/index.js'
import {TUNNEL_BIND, TUNNEL_KEEPALIVE_MAX_MISSES, TUNNEL_KEEPALIVE_MS} from '../common/reverse-tunnel.js'

// A node behind a firewall (no listener) dials out instead: one reverse tunnel to each proxy it
// knows (common/reverse-tunnel.ts has the contract). Each tunnel learns the proxy's tunnel
// address from its web ping at every (re)connect, keeps the SSH connection up (keepalives), and
// when it drops tries again with exponential back-off and jitter on the clock seam. Channels the
// proxy opens are handed to the node's SSH server like accepted sockets; the node's auth API
// connection runs over whichever tunnel is up.

export interface TunnelBackoff {
  /** First retry after a failure; doubles up to maxMs. */
  minMs: number
  maxMs: number
}

export const DEFAULT_TUNNEL_BACKOFF: TunnelBackoff = {minMs: 1000, maxMs: 30_000}

const CONNECT_TIMEOUT_MS = 15_000
/** How long a call to auth waits for some tunnel to come up before it fails (and is retried by its caller). */
const AUTH_WAIT_MS = 15_000

export interface ReverseTunnelAgentOptions {
  /** The node's host identity: what the proxy checks. */
  identity: {privateKey: string; certificate: string}
  hostUuid: string
  clusterName: string
  /** The host CA keys now (they rotate): the proxy must present a Proxy certificate from one. */
  hostCAs: () => string[]
  /** The proxies' web addresses; each one's ping says where its tunnel port is. */
  proxies: HostPort[]
  /** Where the tunnel address of a proxy is learned (the web ping). */
  /** Where the proxy's tunnels are; `tlsRouting`: by ALPN on its web port (multiplex mode). */
  tunnelAddress: (webAddr: HostPort) => Promise<{addr: HostPort; tlsRouting: boolean}>
  /** Takes each connection a proxy opens to this node. */
  handler: ConnectionHandler
  log: Logger
  clock?: Clock
  backoff?: Partial<TunnelBackoff>
  /** Jitter source in [0, 1) (tests fix it). */
  random?: () => number
}

export class ReverseTunnelAgent {
  private readonly tunnels: ProxyTunnel[]
  private readonly waiters = new Set<() => void>()
  readonly clock: Clock

  constructor(readonly options: ReverseTunnelAgentOptions) {
    if (options.proxies.length === 0) throw new UserError('a node without a listener needs a proxy to dial: pass the proxy web address as --auth-server')
    this.clock = options.clock ?? systemClock
    this.tunnels = options.proxies.map((proxy) => new ProxyTunnel(proxy, this))
  }

  start(): void {
    for (const tunnel of this.tunnels) tunnel.connect()
  }

  /** How many tunnels are up now. */
  get connected(): number {
    return this.tunnels.filter((t) => t.live).length
  }

  /** A channel to the auth API over a live tunnel, waiting a while for one to come up. */
  async openAuthChannel(): Promise<Duplex> {
    const live = this.tunnels.find((t) => t.live) ?? (await this.nextLive())
    return live.openAuthChannel()
  }

  async close(): Promise<void> {
    await Promise.all(this.tunnels.map((t) => t.close()))
    for (const wake of [...this.waiters]) wake()
  }

  /** @internal a tunnel came up. */
  up(): void {
    for (const wake of [...this.waiters]) wake()
  }

  private nextLive(): Promise<ProxyTunnel> {
    return new Promise((resolve, reject) => {
      const done = () => {
        timer.cancel()
        this.waiters.delete(check)
      }
      const check = () => {
        const live = this.tunnels.find((t) => t.live)
        if (live) {
          done()
          resolve(live)
        } else if (this.tunnels.every((t) => t.closed)) {
          done()
          reject(new Error('the reverse tunnels are closed'))
        }
      }
      const timer = this.clock.setTimer(AUTH_WAIT_MS, () => {
        done()
        reject(new Error(`no reverse tunnel to a proxy is up (tried ${this.options.proxies.map(formatHostPort).join(', ')})`))
      })
      this.waiters.add(check)
    })
  }
}

/** One proxy's tunnel: connects, serves, and reconnects until closed. */
class ProxyTunnel {
  private client: ssh2.Client | undefined
  live = false
  closed = false
  private failures = 0
  private retry: Timer | undefined
  private failing = false
  private readonly where: string

  constructor(
    private readonly webAddr: HostPort,
    private readonly agent: ReverseTunnelAgent,
  ) {
    this.where = formatHostPort(webAddr)
  }

  private get log(): Logger {
    return this.agent.options.log
  }

  connect(): void {
    if (this.closed) return
    void this.attempt().catch((err: Error) => this.lost(err))
  }

  async close(): Promise<void> {
    this.closed = true
    this.retry?.cancel()
    this.live = false
    this.client?.end()
  }

  openAuthChannel(): Promise<Duplex> {
    return new Promise((resolve, reject) => {
      const client = this.client
      if (!client || !this.live) return reject(new Error(`the reverse tunnel to ${this.where} is down`))
      client.subsys(`proxy:@${this.agent.options.clusterName}`, (err, channel: ClientChannel) => {
        if (err) return reject(new Error(`the proxy at ${this.where} refused the auth API channel: ${err.message}`))
        resolve(channel as unknown as Duplex)
      })
    })
  }

  private async attempt(): Promise<void> {
    const {options} = this.agent
    this.log.debug(`reverse tunnel to proxy ${this.where}: asking for its tunnel address`)
    const {addr, tlsRouting} = await options.tunnelAddress(this.webAddr)
    if (this.closed) return
    const sock = tlsRouting ? await dialAlpn(addr, ALPN_REVERSE_TUNNEL, CONNECT_TIMEOUT_MS) : undefined
    if (this.closed) return void sock?.destroy()
    this.log.debug(`reverse tunnel to proxy ${this.where}: dialling ${formatHostPort(addr)}`)
    const client = new ssh2.Client()
    this.client = client
    let refusal: Error | undefined
    let settled = false
    client.on('error', (err) => {
      if (!settled) {
        settled = true
        this.lost(refusal ?? err)
      }
    })
    client.once('close', () => {
      if (this.client === client) this.client = undefined
      const wasLive = this.live
      this.live = false
      if (wasLive) this.log.warn(`Reverse tunnel to proxy ${this.where} (${formatHostPort(addr)}) closed; reconnecting.`)
      if (!settled) {
        settled = true
        this.lost(refusal ?? new Error('the proxy closed the connection'))
      } else if (wasLive) {
        this.failures = 0
        this.schedule()
      }
    })
    client.on('tcp connection', (details, accept) => {
      const stream = accept()
      stream.on('error', () => {}) // the node's SSH server takes it from here
      options.handler.handle({stream: stream as unknown as Duplex, local: {host: TUNNEL_BIND.host, port: TUNNEL_BIND.port}, remote: {host: details.srcIP, port: details.srcPort}})
    })
    client.once('ready', () => {
      client.forwardIn(TUNNEL_BIND.host, TUNNEL_BIND.port, (err) => {
        if (err) {
          settled = true
          client.end()
          return this.lost(new Error(`the proxy at ${this.where} refused the tunnel: ${err.message}`))
        }
        settled = true
        this.live = true
        this.failures = 0
        this.failing = false
        this.log.info(`Reverse tunnel to proxy ${this.where} (${formatHostPort(addr)}) is up.`)
        this.agent.up()
      })
    })
    client.connect({
      host: addr.host,
      port: addr.port,
      ...(sock ? {sock} : {}),
      username: options.hostUuid,
      privateKey: options.identity.privateKey,
      certificate: options.identity.certificate,
      readyTimeout: CONNECT_TIMEOUT_MS,
      keepaliveInterval: TUNNEL_KEEPALIVE_MS,
      keepaliveCountMax: TUNNEL_KEEPALIVE_MAX_MISSES,
      algorithms: withHostKeyAlgorithms([...CERT_HOST_KEY_ALGORITHMS]),
      hostVerifier: (key: Buffer) => {
        try {
          const cert = verifyCert(key, {type: 'host', trustedCAs: options.hostCAs()})
          if (cert.hostRole !== 'Proxy') throw new Error(`the server at ${formatHostPort(addr)} is a ${cert.hostRole ?? 'role-less'} host, not a proxy`)
          return true
        } catch (err) {
          refusal = err as Error
          return false
        }
      },
    } as ssh2.ConnectConfig)
  }

  /** A failed attempt: logged once per outage (debug after), retried after the back-off. */
  private lost(err: Error): void {
    this.live = false
    if (this.closed) return
    if (!this.failing) this.log.warn(`cannot open a reverse tunnel to proxy ${this.where}: ${err.message}; retrying`)
    else this.log.debug(`reverse tunnel to proxy ${this.where}: ${err.message}`)
    this.failing = true
    this.failures++
    this.client?.end()
    this.schedule()
  }

  private schedule(): void {
    if (this.closed) return
    this.retry?.cancel()
    // Not unref'd: with no listener, this timer is what keeps a node between tunnels alive.
    this.retry = this.agent.clock.setTimer(retryDelay(this.failures, this.agent.options.backoff, this.agent.options.random), () => this.connect())
  }
}

/**
 * Exponential back-off with jitter: after `failures` failures in a row, between half and all of
 * min·2^(failures-1) (capped at max), so nodes cut off by one proxy restart do not all return at once.
 */
export function retryDelay(failures: number, backoff: Partial<TunnelBackoff> = {}, random: () => number = Math.random): number {
  const {minMs, maxMs} = {...DEFAULT_TUNNEL_BACKOFF, ...backoff}
  const ceiling = Math.min(maxMs, minMs * 2 ** Math.max(0, failures - 1))
  return Math.round(ceiling / 2 + (ceiling / 2) * random())
}
