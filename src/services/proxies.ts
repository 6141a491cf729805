// Proxy presence: each proxy upserts its record under /proxies/<hostUUID> with a 10 minute expiry
// and keeps it alive as nodes do (the same heartbeat); a stopped proxy removes it, a crashed one's
// expires. Other proxies read the list to tell reverse tunnel agents where to find every proxy.
import type {Backend, Item} from '../backend/backend.js'
import type {Clock} from '../lib/clock.js'
import {NotFoundError} from '../lib/errors.js'
import {compareCodeUnits} from '../lib/compare.js'
import {BackendService} from './backend-service.js'
import {validateProxy, type ProxyRecord, type ServerProxy} from './models/proxy.js'
import {assertValidName} from './models/resource.js'
import {NODE_TTL_MS} from './nodes.js'

export * from './models/proxy.js'

const PREFIX = '/proxies/'

export class ProxyService extends BackendService {
  constructor(backend: Backend, options: {clock?: Clock} = {}) {
    super(backend, options)
  }

  /** Creates or replaces a proxy's record, expiring as a node's does. */
  async upsertProxy(proxy: ProxyRecord): Promise<ServerProxy> {
    const record = validateProxy(proxy)
    const expires = this.expiry()
    await this.backend.put({key: PREFIX + record.name, value: JSON.stringify(record), expires})
    return {...record, expires}
  }

  /** Pushes a live proxy's expiry; NotFoundError when it already expired. */
  async keepAlive(name: string): Promise<ServerProxy> {
    assertValidName('proxy', name)
    return toProxy(await this.renewExpiry(PREFIX + name, this.expiry(), () => notFound(name)))
  }

  /** Live proxies sorted by hostname, then host UUID. */
  async listProxies(): Promise<ServerProxy[]> {
    const now = this.clock.now().getTime()
    return (await this.backend.getRange(PREFIX))
      .filter((item) => !item.expires || item.expires.getTime() > now)
      .map(toProxy)
      .sort((a, b) => compareCodeUnits(a.hostname, b.hostname) || compareCodeUnits(a.name, b.name))
  }

  async deleteProxy(name: string): Promise<void> {
    assertValidName('proxy', name)
    await this.deleteOr(PREFIX + name, () => notFound(name))
  }

  private expiry(): Date {
    return new Date(this.clock.now().getTime() + NODE_TTL_MS)
  }
}

function toProxy(item: Item): ServerProxy {
  return {...(JSON.parse(item.value) as ProxyRecord), expires: item.expires ?? new Date(0)}
}

function notFound(name: string): NotFoundError {
  return new NotFoundError(`proxy ${JSON.stringify(name)} is not found (a proxy's record disappears when it stops, or ${NODE_TTL_MS / 60_000} minutes after its last heartbeat)`)
}
