// Node presence: each node upserts its record under /nodes/<hostUUID> with a 10 minute expiry and
// keeps it alive; a node whose record expired is offline and no longer listed.
import type {Backend, Item} from '../backend/backend.js'
import type {Clock} from '../lib/clock.js'
import {BackendService} from './backend-service.js'
import {AlreadyExistsError, BadParameterError, NotFoundError} from '../lib/errors.js'
import {assertValidName} from './models/resource.js'
import {OPENSSH_SUB_KIND, validateNode, type NodeRecord, type ServerNode} from './models/node.js'
import {compareCodeUnits} from '../lib/compare.js'
import {WatchedItems} from './watched-items.js'

export * from './models/node.js'

export const NODE_TTL_MS = 10 * 60_000
const PREFIX = '/nodes/'

export interface NodeServiceOptions {
  clock?: Clock
  ttlMs?: number
  /** The watch feeding the node list failed (the list is read again at the next call). */
  onWatchError?: (err: Error) => void
}

export class NodeService extends BackendService {
  private readonly ttlMs: number
  /** Every record, kept current by the backend's watch: listing costs no storage read. */
  private readonly records: WatchedItems<ServerNode>

  constructor(backend: Backend, options: NodeServiceOptions = {}) {
    super(backend, options)
    this.ttlMs = options.ttlMs ?? NODE_TTL_MS
    this.records = new WatchedItems(backend, PREFIX, toNode, options.onWatchError)
  }

  /** Stops following the backend (the auth server is stopping). */
  close(): void {
    this.records.close()
  }

  /** Creates or replaces a node's record, expiring `ttlMs` (default 10m) from now. */
  async upsertNode(node: NodeRecord, options: {ttlMs?: number} = {}): Promise<ServerNode> {
    const record = validateNode(node)
    const expires = this.expiry(options.ttlMs)
    this.records.wrote(await this.backend.put({key: PREFIX + record.name, value: JSON.stringify(record), expires}))
    return {...record, expires}
  }

  /**
   * Registers a plain OpenSSH server (`tctl create` of a node with sub_kind openssh): no expiry,
   * since it never heartbeats. With `create`, AlreadyExistsError if the name is taken; an existing
   * record of one of our nodes is never replaced (it belongs to that node's presence).
   */
  async registerOpenSSHNode(node: Omit<NodeRecord, 'subKind' | 'tunnel' | 'cmdLabels' | 'version'>, options: {create?: boolean} = {}): Promise<ServerNode> {
    const record = validateNode({...node, cmdLabels: {}, version: '', subKind: OPENSSH_SUB_KIND})
    if (record.addr === '') throw new BadParameterError(`node ${JSON.stringify(record.name)}: spec.addr is required (host:port of the sshd)`)
    const item = {key: PREFIX + record.name, value: JSON.stringify(record)}
    if (options.create) {
      const created = await this.backend.create(item).catch((err: unknown) => {
        throw err instanceof AlreadyExistsError ? new AlreadyExistsError(`node ${JSON.stringify(record.name)} already exists`, {hint: 'use --force to overwrite it'}) : err
      })
      this.records.wrote(created)
      return record
    }
    const current = await this.backend.get(item.key).catch((err: unknown) => {
      if (err instanceof NotFoundError) return undefined
      throw err
    })
    if (current) {
      if ((JSON.parse(current.value) as NodeRecord).subKind !== OPENSSH_SUB_KIND) throw new AlreadyExistsError(`node ${JSON.stringify(record.name)} is a Teleport node announcing itself; it cannot be replaced by an OpenSSH node`)
      this.records.wrote(await this.backend.compareAndSwap(current.value, item))
    } else {
      this.records.wrote(await this.backend.create(item))
    }
    return record
  }

  /** Pushes a live node's expiry `ttlMs` (default 10m) from now. NotFoundError when it already expired. */
  async keepAlive(name: string, options: {ttlMs?: number} = {}): Promise<Date> {
    assertValidName('node', name)
    const expires = this.expiry(options.ttlMs)
    const key = PREFIX + name
    this.records.wrote(await this.renewExpiry(key, expires, () => notFound(name), this.records.held(key, this.clock.now())))
    return expires
  }

  async getNode(name: string): Promise<ServerNode> {
    return toNode(await this.getItem(name))
  }

  /** Live nodes sorted by hostname, then host UUID. */
  async listNodes(): Promise<ServerNode[]> {
    const nodes = await this.records.values(this.clock.now())
    // The held records keep the order of the last sort, so only a new node or a renamed one (not a
    // heartbeat, which changes 10,000 nodes' records every minute) costs a sort.
    if (!isSorted(nodes, compareNodes)) {
      nodes.sort(compareNodes)
      this.records.reorder(compareNodes)
    }
    return nodes
  }

  async deleteNode(name: string): Promise<void> {
    assertValidName('node', name)
    await this.deleteOr(PREFIX + name, () => notFound(name))
    this.records.deleted(PREFIX + name)
  }

  private async getItem(name: string): Promise<Item> {
    assertValidName('node', name)
    let item: Item
    try {
      item = await this.backend.get(PREFIX + name)
    } catch (err) {
      if (err instanceof NotFoundError) throw notFound(name)
      throw err
    }
    if (item.expires && item.expires <= this.clock.now()) throw notFound(name)
    return item
  }

  private expiry(ttlMs: number | undefined): Date {
    const ttl = ttlMs ?? this.ttlMs
    if (!Number.isFinite(ttl) || ttl <= 0) throw new BadParameterError(`invalid node TTL ${ttl}`)
    return new Date(this.clock.now().getTime() + ttl)
  }
}

function compareNodes(a: ServerNode, b: ServerNode): number {
  return compareCodeUnits(a.hostname, b.hostname) || compareCodeUnits(a.name, b.name)
}

function isSorted<T>(items: readonly T[], compare: (a: T, b: T) => number): boolean {
  for (let i = 1; i < items.length; i++) if (compare(items[i - 1]!, items[i]!) > 0) return false
  return true
}

function toNode(item: Item): ServerNode {
  const record = JSON.parse(item.value) as NodeRecord
  return item.expires ? {...record, expires: item.expires} : record
}

function notFound(name: string): NotFoundError {
  return new NotFoundError(`node ${JSON.stringify(name)} is not found (offline nodes disappear ${NODE_TTL_MS / 60_000} minutes after their last heartbeat)`)
}
