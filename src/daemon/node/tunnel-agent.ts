import type {Duplex} from 'node:stream'
import {systemClock, type Clock, type Timer} from '../../lib/clock.js'
import {UserError} from '../../lib/errors.js'
import type {Logger} from '../../lib/log.js'
import {parseEndpoint} from '../../lib/net/ip.js'
import {formatHostPort, type HostPort} from '../../config/index.js'
import type {DiscoveredProxy} from '../common/reverse-tunnel.js'
import {dialProxyTunnel, type ProxyTunnelContext, type TunnelLink} from './proxy-tunnel.js'

// A node behind a firewall (no listener) dials out instead (common/reverse-tunnel.ts has the
// contract): it keeps one reverse tunnel to every proxy of the cluster, told apart by the host id
// in each proxy's certificate. It starts with the proxy addresses it was given; each proxy then
// tells it the whole set (discovery), and for each proxy it lacks a seeker dials that proxy's
// announced address or, failing that, the given ones (often one load-balanced address): landing
// on a proxy it already has a tunnel to, it closes the extra one and tries again after a back-off
// with jitter (the clock seam). Proxies that leave the set are dropped. Channels the proxies open
// are handed to the node's SSH server like accepted sockets; the node's auth API connection runs
// over whichever tunnel is up.

export interface TunnelBackoff {
  /** First retry after a failure; doubles up to maxMs. */
  minMs: number
  maxMs: number
}

export const DEFAULT_TUNNEL_BACKOFF: TunnelBackoff = {minMs: 1000, maxMs: 30_000}

/** How long a call to auth waits for some tunnel to come up before it fails (and is retried by its caller). */
const AUTH_WAIT_MS = 15_000

export interface ReverseTunnelAgentOptions extends ProxyTunnelContext {
  /** The proxies' web addresses the node was given; each one's ping says where its tunnel port is. */
  proxies: HostPort[]
  log: Logger
  clock?: Clock
  backoff?: Partial<TunnelBackoff>
  /** Jitter source in [0, 1) (tests fix it). */
  random?: () => number
  /** How a tunnel is dialled (default: SSH to the proxy's tunnel port, proxy-tunnel.ts; unit tests stand in). */
  dial?: (webAddr: HostPort) => Promise<TunnelLink>
}

/** Dials until it has a tunnel to `want` (a proxy id), or with `want` undefined, to whatever proxy its address leads to. */
interface Seeker {
  want: string | undefined
  candidates: () => HostPort[]
  tries: number
  failures: number
  failing: boolean
  cancelled: boolean
  timer?: Timer
}

export class ReverseTunnelAgent {
  /** One tunnel per proxy id: live, or being activated. */
  private readonly links = new Map<string, TunnelLink>()
  private readonly live = new Set<TunnelLink>()
  private readonly seekers = new Set<Seeker>()
  /** The set the proxies announce; undefined until one does (a proxy that announces none: the given addresses only). */
  private discovered: Map<string, DiscoveredProxy> | undefined
  /** What each tunnel's proxy last announced: proxies read auth at their own pace, so the set is the union. */
  private readonly views = new Map<TunnelLink, DiscoveredProxy[]>()
  private readonly waiters = new Set<() => void>()
  private closed = false
  readonly clock: Clock
  private readonly dial: (webAddr: HostPort) => Promise<TunnelLink>
  /** Each web address's tunnel address, from its ping, while dials to it work. */
  private readonly tunnelAddrs = new Map<string, {addr: HostPort; tlsRouting: boolean}>()

  constructor(readonly options: ReverseTunnelAgentOptions) {
    if (options.proxies.length === 0) throw new UserError('a node without a listener needs a proxy to dial: pass the proxy web address as --auth-server')
    this.clock = options.clock ?? systemClock
    this.dial = options.dial ?? ((webAddr) => this.dialTunnel(webAddr))
  }

  /**
   * The tunnel address a proxy's web ping gave is kept until a dial to it fails: behind a
   * round-robin balancer, a ping before each try would take every other connection, so that the
   * tries would all land on the same proxy.
   */
  private async dialTunnel(webAddr: HostPort): Promise<TunnelLink> {
    const key = formatHostPort(webAddr)
    try {
      return await dialProxyTunnel(webAddr, {
        ...this.options,
        tunnelAddress: async (addr) => {
          const found = this.tunnelAddrs.get(key) ?? (await this.options.tunnelAddress(addr))
          this.tunnelAddrs.set(key, found)
          return found
        },
      })
    } catch (err) {
      this.tunnelAddrs.delete(key)
      throw err
    }
  }

  start(): void {
    for (const addr of this.options.proxies) this.seek(undefined, () => [addr], {now: true})
  }

  /** How many tunnels are up now. */
  get connected(): number {
    return this.live.size
  }

  /** The ids of the proxies with a live tunnel, sorted. */
  proxies(): string[] {
    return [...this.live].map((link) => link.proxyId).sort()
  }

  /** A channel to the auth API over a live tunnel, waiting a while for one to come up. */
  async openAuthChannel(): Promise<Duplex> {
    const link = this.anyLive() ?? (await this.nextLive())
    return link.openAuthChannel()
  }

  async close(): Promise<void> {
    this.closed = true
    for (const seeker of this.seekers) this.cancel(seeker)
    for (const link of this.links.values()) link.close()
    for (const wake of [...this.waiters]) wake()
  }

  private anyLive(): TunnelLink | undefined {
    return this.live.values().next().value
  }

  private seek(want: string | undefined, candidates: () => HostPort[], {now = false} = {}): void {
    const seeker: Seeker = {want, candidates, tries: 0, failures: 0, failing: false, cancelled: false}
    this.seekers.add(seeker)
    if (now) void this.attempt(seeker)
    else this.schedule(seeker)
  }

  private cancel(seeker: Seeker): void {
    seeker.cancelled = true
    seeker.timer?.cancel()
    this.seekers.delete(seeker)
  }

  private schedule(seeker: Seeker): void {
    if (this.closed || seeker.cancelled) return
    seeker.timer?.cancel()
    // Not unref'd: with no listener, this timer is what keeps a node between tunnels alive.
    seeker.timer = this.clock.setTimer(retryDelay(seeker.failures, this.options.backoff, this.options.random), () => void this.attempt(seeker))
  }

  private async attempt(seeker: Seeker): Promise<void> {
    if (this.closed || seeker.cancelled) return
    const candidates = seeker.candidates()
    const target = candidates[seeker.tries++ % candidates.length]!
    const where = seeker.want ? `${seeker.want} via ${formatHostPort(target)}` : formatHostPort(target)
    let link: TunnelLink
    try {
      link = await this.dial(target)
    } catch (err) {
      return this.failed(seeker, where, err as Error)
    }
    if (this.closed) return link.close()
    if (this.links.has(link.proxyId)) {
      // Another tunnel to a proxy we have (a balancer picked it again): close it and try again.
      link.close()
      if (seeker.want === undefined || seeker.cancelled) return this.finish(seeker)
      this.options.log.debug(`reverse tunnel to proxy ${where}: landed on proxy ${link.proxyId} again; trying again`)
      seeker.failures++
      return this.schedule(seeker)
    }
    try {
      await this.adopt(link, target)
    } catch (err) {
      return this.failed(seeker, where, err as Error)
    }
    // The proxy wanted, or any proxy: done. Another one we lacked: kept, and the seeker goes on.
    if (seeker.want === undefined || seeker.want === link.proxyId || seeker.cancelled) return this.finish(seeker)
    seeker.failures = 0
    this.schedule(seeker)
  }

  private finish(seeker: Seeker): void {
    this.cancel(seeker)
    this.reconcile()
  }

  /** A failed attempt: logged once per outage (debug after), retried after the back-off. */
  private failed(seeker: Seeker, where: string, err: Error): void {
    if (this.closed || seeker.cancelled) return
    if (!seeker.failing) this.options.log.warn(`cannot open a reverse tunnel to proxy ${where}: ${err.message}; retrying`)
    else this.options.log.debug(`reverse tunnel to proxy ${where}: ${err.message}`)
    seeker.failing = true
    seeker.failures++
    this.schedule(seeker)
  }

  /** Makes `link` this proxy's tunnel; when it ends, the proxy is sought again. */
  private async adopt(link: TunnelLink, dialled: HostPort): Promise<void> {
    const id = link.proxyId
    this.links.set(id, link)
    let wasLive = false
    link.onClose(() => {
      if (this.links.get(id) === link) this.links.delete(id)
      this.live.delete(link)
      // Its view goes with it, unless it was the last one: cut off, the node keeps seeking what it knew.
      if (this.views.delete(link) && this.views.size && !this.closed) this.updateDiscovered()
      if (!wasLive || this.closed) return
      this.options.log.warn(`Reverse tunnel to proxy ${id} (${link.addr}) closed; reconnecting.`)
      this.lost(dialled)
    })
    try {
      await link.activate((proxies) => this.announced(link, proxies))
    } catch (err) {
      link.close()
      throw err
    }
    if (this.closed || this.links.get(id) !== link) return link.close()
    wasLive = true
    this.live.add(link)
    this.options.log.info(`Reverse tunnel to proxy ${id} (${link.addr}) is up.`)
    for (const wake of [...this.waiters]) wake()
  }

  /** A live tunnel ended: the proxies announced say whether to seek it again; without them, the address it was dialled at is. */
  private lost(dialled: HostPort): void {
    if (this.discovered) return this.reconcile()
    this.seek(undefined, () => [dialled])
  }

  /** A proxy told the current set as it sees it. */
  private announced(link: TunnelLink, proxies: DiscoveredProxy[]): void {
    if (this.closed || this.links.get(link.proxyId) !== link) return
    this.views.set(link, proxies)
    this.updateDiscovered()
  }

  /** The set is what the proxies announce together: seek those we lack, drop those that left it. */
  private updateDiscovered(): void {
    const previous = this.discovered
    const discovered = new Map<string, DiscoveredProxy>()
    for (const view of this.views.values()) for (const p of view) if (!discovered.has(p.id)) discovered.set(p.id, p)
    this.discovered = discovered
    for (const id of previous?.keys() ?? []) {
      if (discovered.has(id)) continue
      const link = this.links.get(id)
      this.options.log.info(`Proxy ${id} is no longer in the cluster${link ? '; closing its reverse tunnel' : ''}.`)
      link?.close()
    }
    // The given addresses were only a way in: from now on the set says what to seek.
    for (const seeker of [...this.seekers]) if (seeker.want === undefined) this.cancel(seeker)
    this.reconcile()
  }

  /** One seeker for each announced proxy without a tunnel; none for those that left. */
  private reconcile(): void {
    if (this.closed || !this.discovered) return
    const discovered = this.discovered
    for (const seeker of [...this.seekers]) if (seeker.want !== undefined && !discovered.has(seeker.want)) this.cancel(seeker)
    for (const id of discovered.keys()) {
      if (this.links.has(id) || [...this.seekers].some((s) => s.want === id)) continue
      this.seek(id, () => this.candidatesFor(id))
    }
  }

  /** Where to look for proxy `id`: the address it announced, then the addresses the node was given. */
  private candidatesFor(id: string): HostPort[] {
    const announced = parseEndpoint(this.discovered?.get(id)?.addr ?? '')
    const all = [...(announced && announced.port ? [announced] : []), ...this.options.proxies]
    return all.filter((a, i) => all.findIndex((b) => b.host === a.host && b.port === a.port) === i)
  }

  private nextLive(): Promise<TunnelLink> {
    return new Promise((resolve, reject) => {
      const done = () => {
        timer.cancel()
        this.waiters.delete(check)
      }
      const check = () => {
        const link = this.anyLive()
        if (link) {
          done()
          resolve(link)
        } else if (this.closed) {
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

/**
 * Exponential back-off with jitter: after `failures` failures in a row, between half and all of
 * min·2^(failures-1) (capped at max), so nodes cut off by one proxy restart do not all return at once.
 */
export function retryDelay(failures: number, backoff: Partial<TunnelBackoff> = {}, random: () => number = Math.random): number {
  const {minMs, maxMs} = {...DEFAULT_TUNNEL_BACKOFF, ...backoff}
  const ceiling = Math.min(maxMs, minMs * 2 ** Math.max(0, failures - 1))
  return Math.round(ceiling / 2 + (ceiling / 2) * random())
}
