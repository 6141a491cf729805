import type {ProxyAuthApi, ProxyInfo} from '../../api/auth-api.js'
import {systemClock, type Clock, type Timer} from '../../lib/clock.js'
import type {Logger} from '../../lib/log.js'
import {DEFAULT_HEARTBEAT_TIMING, Heartbeat, type HeartbeatTiming} from '../common/heartbeat.js'
import type {DiscoveredProxy, ProxyDiscovery} from '../common/reverse-tunnel.js'

// The proxy's presence: it announces itself to auth with the nodes' heartbeat (a record with an
// expiry, kept alive), reads the other proxies' records every few seconds, and tells whoever
// listens (the tunnel server, which tells its agents) when the set changes. A stopped proxy
// removes its record, so agents drop it at once; a crashed one's expires.

export type ProxyAnnouncement = Omit<ProxyInfo, 'expires'>

/** How often the other proxies' records are read. */
export const PROXY_LIST_POLL_MS = 10_000

export interface ProxyPresenceOptions {
  api: Pick<ProxyAuthApi, 'upsertProxy' | 'keepAliveProxy' | 'deleteProxy' | 'listProxies'>
  /** This proxy's record (read at each announcement: its addresses are known once it listens). */
  self: () => ProxyAnnouncement
  log: Logger
  clock?: Clock
  heartbeat?: Partial<HeartbeatTiming>
  pollMs?: number
}

export class ProxyPresence implements ProxyDiscovery {
  private readonly heartbeat: Heartbeat<ProxyAnnouncement>
  private readonly listeners = new Set<() => void>()
  private readonly clock: Clock
  /** The live proxies as auth last listed them (this one among them once its record is there). */
  private listed: DiscoveredProxy[] = []
  private started = false
  private poller: Timer | undefined
  private listFailing = false
  /** The set the listeners were last told of. */
  private told = '[]'

  constructor(private readonly options: ProxyPresenceOptions) {
    const {api} = options
    this.clock = options.clock ?? systemClock
    this.heartbeat = new Heartbeat(
      {upsert: (record) => api.upsertProxy(record), keepAlive: (name) => api.keepAliveProxy(name)},
      options.self,
      options.log,
      {...DEFAULT_HEARTBEAT_TIMING, ...options.heartbeat},
      this.clock,
    )
  }

  /** Announces this proxy, reads the others, and keeps doing both. */
  async start(): Promise<void> {
    await this.heartbeat.start()
    this.started = true
    await this.refresh()
    this.poller = this.clock.setRepeating(this.options.pollMs ?? PROXY_LIST_POLL_MS, () => void this.refresh(), {unref: true})
  }

  /** This proxy and the live others; nothing before start (its addresses are not known yet). */
  current(): DiscoveredProxy[] {
    if (!this.started) return []
    const self = this.options.self()
    // Its own record as auth keeps it (a wildcard address filled in), else as it announces it; always first.
    const own = this.listed.find((p) => p.id === self.name) ?? {id: self.name, hostname: self.hostname, addr: self.publicAddr}
    return [own, ...this.listed.filter((p) => p !== own)]
  }

  onChange(listener: () => void): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }

  /** Reads the other proxies now; tells the listeners when the set changed. */
  async refresh(): Promise<void> {
    try {
      const live = await this.options.api.listProxies()
      this.listed = live.map((p) => ({id: p.name, hostname: p.hostname, addr: p.publicAddr}))
      if (this.listFailing) this.options.log.info('Proxy discovery: the list of proxies is readable again.')
      this.listFailing = false
    } catch (err) {
      // What was read last stays: agents keep the tunnels they have.
      if (!this.listFailing) this.options.log.warn(`Proxy discovery: cannot read the list of proxies: ${(err as Error).message}`)
      this.listFailing = true
    }
    const now = JSON.stringify(this.current())
    if (now === this.told) return
    this.told = now
    for (const listener of [...this.listeners]) listener()
  }

  /** Stops announcing and removes this proxy's record (best effort: otherwise it expires). */
  async stop(): Promise<void> {
    this.poller?.cancel()
    await this.heartbeat.stop()
    if (!this.started) return
    this.started = false
    await this.options.api.deleteProxy(this.options.self().name).catch((err: Error) => this.options.log.debug(`could not remove this proxy's presence record: ${err.message}`))
  }
}
