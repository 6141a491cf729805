// The etcd Backend, for several auth servers sharing one cluster state (Teleport's HA storage).
// Revisions are etcd's mod revisions. Expiry: each expiring item is attached to a lease, so etcd
// deletes it and watchers see a 'delete'; reads also hide it from its exact expiry by this
// backend's clock, since leases count whole seconds (2 s at least). Items whose expiry falls in
// the same second share one lease that ends at or after that second: the heartbeats of 10,000
// nodes grant one lease a second instead of one per heartbeat.
// Conditional writes read the keys they depend on, check them here, and commit in a transaction
// that holds only if none of those keys changed since (their mod revision), retrying a lost race:
// that is how "expired counts as missing" holds inside etcd, which knows nothing of our clock.
import {randomBytes} from 'node:crypto'
import type {Etcd3, IKeyValue, IRequestOp} from 'etcd3'
import {systemClock, type Clock} from '../lib/clock.js'
import {AlreadyExistsError, BadParameterError, CompareFailedError} from '../lib/errors.js'
import type {Backend, Condition, Item, Operation, PutItem, Watcher, WatchOptions} from './backend.js'
import {assertConditionHolds, assertUnchanged, assertValidAfterRevision, assertValidAtomicWrite, assertValidLimit, expiryMillis, mustExist} from './checks.js'
import {createEtcdClient, DEFAULT_CALL_TIMEOUT_MS, type EtcdBackendConfig, withEtcd} from './etcd-client.js'
import {EtcdKeyspace, encodeValue, writeIdOf} from './etcd-codec.js'
import {EtcdWatcher} from './etcd-watcher.js'

/** Keys read per request by getRange, so a large range never exceeds gRPC's message size. */
const RANGE_PAGE_SIZE = 500
/** A conditional write that keeps losing races gives up after this many tries. */
const MAX_ATTEMPTS = 20

interface Snapshot {
  /** Live items by backend key. */
  live: Map<string, Item>
  /** Mod revision of every key read (0: absent), which the commit requires unchanged. */
  modRevisions: Map<string, string>
}

export class EtcdBackend implements Backend {
  private readonly keyspace: EtcdKeyspace
  private readonly timeoutMs: number
  private readonly watchers = new Set<EtcdWatcher>()
  /** The newest revision any answer from etcd has shown; a watch without afterRevision starts after it. */
  private lastRevision = 0
  /** The lease for each second items expire in (ms since the epoch / 1000, rounded up). */
  private readonly leases = new Map<number, Promise<string>>()
  private closed = false

  private constructor(
    private readonly client: Etcd3,
    private readonly config: EtcdBackendConfig,
    private readonly clock: Clock,
  ) {
    this.keyspace = new EtcdKeyspace(config.prefix)
    this.timeoutMs = config.callTimeoutMs ?? DEFAULT_CALL_TIMEOUT_MS
  }

  /** Connects and makes one call, so a wrong address or credentials fail here, within the deadline. */
  static async open(config: EtcdBackendConfig, clock: Clock = systemClock): Promise<EtcdBackend> {
    if (config.peers.length === 0) throw new BadParameterError('teleport.storage.peers: name at least one etcd member')
    const client = createEtcdClient(config)
    const backend = new EtcdBackend(client, config, clock)
    try {
      await backend.call(() => client.kv.range({...backend.keyspace.range(''), count_only: true}))
    } catch (error) {
      client.close()
      throw error
    }
    return backend
  }

  async get(key: string): Promise<Item> {
    const etcdKey = this.keyspace.key(key)
    const response = await this.call(() => this.client.kv.range({key: etcdKey}))
    return mustExist(key, this.live(response.kvs[0]))
  }

  async put(item: PutItem): Promise<Item> {
    const op = await this.putOp(item)
    const response = await this.call(() => this.client.kv.put(op.request_put!))
    return written(item, response.header.revision)
  }

  async create(item: PutItem): Promise<Item> {
    const revision = await this.readCheckWrite([item.key], async ({live}) => {
      if (live.has(item.key)) throw new AlreadyExistsError(`key ${JSON.stringify(item.key)} already exists`)
      return [await this.putOp(item)]
    })
    return written(item, revision)
  }

  async update(item: PutItem): Promise<Item> {
    const revision = await this.readCheckWrite([item.key], async ({live}) => {
      mustExist(item.key, live.get(item.key))
      return [await this.putOp(item)]
    })
    return written(item, revision)
  }

  async compareAndSwap(expectedValue: string, replacement: PutItem): Promise<Item> {
    const revision = await this.readCheckWrite([replacement.key], async ({live}) => {
      assertUnchanged(replacement.key, mustExist(replacement.key, live.get(replacement.key)), expectedValue)
      return [await this.putOp(replacement)]
    })
    return written(replacement, revision)
  }

  async keepAlive(key: string, expires: Date, current?: Item): Promise<Item> {
    // The caller's copy, when it is still the stored one, spares reading the key: one transaction.
    if (current?.key === key && (!current.expires || current.expires.getTime() > this.clock.now().getTime())) {
      const put = await this.putOp({key, value: current.value, expires})
      const commit = await this.call(() => this.client.kv.txn({compare: [{key: put.request_put!.key, target: 'Mod', result: 'Equal', mod_revision: String(current.revision)}], success: [put]}))
      if (commit.succeeded) return written({key, value: current.value, expires}, commit.header.revision)
    }
    let value = ''
    const revision = await this.readCheckWrite([key], async ({live}) => {
      value = mustExist(key, live.get(key)).value
      return [await this.putOp({key, value, expires})]
    })
    return written({key, value, expires}, revision)
  }

  async delete(key: string): Promise<void> {
    await this.readCheckWrite([key], ({live}) => {
      mustExist(key, live.get(key))
      return [{request_delete_range: {key: this.keyspace.key(key)}}]
    })
  }

  async getRange(prefix: string, limit?: number): Promise<Item[]> {
    assertValidLimit(limit)
    const result: Item[] = []
    if (limit === 0) return result
    for await (const kv of this.scan(prefix)) {
      const item = this.live(kv)
      if (item) result.push(item)
      if (limit !== undefined && result.length >= limit) break
    }
    return result
  }

  async deleteRange(prefix: string): Promise<number> {
    if (prefix === '') throw new BadParameterError('deleteRange needs a non-empty prefix')
    const range = this.keyspace.range(prefix)
    const response = await this.call(() => this.client.kv.deleteRange({...range, prev_kv: true}))
    // Expired ones go too (their lease would have removed them); only live ones are counted.
    return response.prev_kvs.filter((kv) => this.live(kv)).length
  }

  async atomicWrite(operations: Operation[], conditions: Condition[] = []): Promise<void> {
    assertValidAtomicWrite(operations, conditions)
    const keys = [...new Set(conditions.map((condition) => condition.key))]
    await this.readCheckWrite(keys, async ({live}) => {
      for (const condition of conditions) assertConditionHolds(condition, live.get(condition.key)?.value)
      const ops: IRequestOp[] = []
      for (const operation of operations) {
        ops.push(operation.op === 'put' ? await this.putOp(operation.item) : {request_delete_range: {key: this.keyspace.key(operation.key)}})
      }
      return ops
    })
  }

  watch(options: WatchOptions = {}): Watcher {
    this.assertOpen()
    assertValidAfterRevision(options.afterRevision)
    // Without afterRevision: after the newest revision this backend has seen, which is no later
    // than any write that begins after this call (it may also replay a few older ones by others).
    const watcher = new EtcdWatcher(this.watchSource(), options, options.afterRevision ?? this.lastRevision, (w) => this.watchers.delete(w))
    this.watchers.add(watcher)
    return watcher
  }

  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    const watchers = [...this.watchers]
    for (const watcher of watchers) watcher.close()
    // etcd3 keeps reconnecting a watch it still holds, even after close(): let go of them first.
    await Promise.all(watchers.map((watcher) => watcher.stopped()))
    this.client.close()
  }

  /**
   * Revokes now the leases of items that have expired by this backend's clock, instead of waiting
   * for etcd's lease timer; etcd then deletes them and watchers see the 'delete'. With the system
   * clock this only brings expiry forward by under two seconds; tests that move a FakeClock call it.
   */
  async revokeExpiredLeases(): Promise<number> {
    const now = this.clock.now().getTime()
    const leases = new Set<string>()
    // A shared lease goes only when everything on it has expired.
    const stillLive = new Set<string>()
    for await (const kv of this.scan('')) {
      const {expiresMs} = this.keyspace.toItem(kv)
      if (kv.lease === '0' || expiresMs === undefined) continue
      if (expiresMs <= now) leases.add(kv.lease)
      else stillLive.add(kv.lease)
    }
    for (const id of stillLive) leases.delete(id)
    this.leases.clear() // a revoked one must not be handed out again
    for (const id of leases) {
      await this.call(() => this.client.leaseClient.leaseRevoke({ID: id})).catch((error: unknown) => {
        if (!/lease not found/.test(String(error))) throw error
      })
    }
    return leases.size
  }

  /**
   * Every key under `prefix`, in key order, read in pages of RANGE_PAGE_SIZE (so no answer exceeds
   * gRPC's message size), all pages at the first one's revision: one consistent snapshot.
   */
  private async *scan(prefix: string): AsyncGenerator<IKeyValue> {
    const range = this.keyspace.range(prefix)
    let start = range.key
    let revision: string | undefined
    for (;;) {
      const from = start
      const response = await this.call(() => this.client.kv.range({key: from, range_end: range.range_end, limit: RANGE_PAGE_SIZE, revision}))
      revision ??= response.header.revision
      yield* response.kvs
      if (!response.more || response.kvs.length === 0) return
      start = Buffer.concat([response.kvs[response.kvs.length - 1]!.key, Buffer.from([0])])
    }
  }

  /** One request to etcd: refused after close, bounded by the deadline, errors made ours. */
  private async call<T extends {header?: {revision: string}}>(work: () => Promise<T>): Promise<T> {
    this.assertOpen()
    const response = await withEtcd(this.config.peers, this.timeoutMs, work)
    if (response.header) this.lastRevision = Math.max(this.lastRevision, Number(response.header.revision))
    return response
  }

  /**
   * Reads `keys` in one snapshot, lets `plan` check them (it throws to refuse) and name the
   * operations, then commits those only if none of the keys changed since; on a lost race, again.
   * Resolves to the revision of the commit.
   */
  private async readCheckWrite(keys: string[], plan: (snapshot: Snapshot) => IRequestOp[] | Promise<IRequestOp[]>): Promise<string> {
    const etcdKeys = keys.map((key) => this.keyspace.key(key))
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const read = await this.call(() => this.client.kv.txn({success: etcdKeys.map((key) => ({request_range: {key}}))}))
      const snapshot: Snapshot = {live: new Map(), modRevisions: new Map()}
      read.responses.forEach((response, i) => {
        const kv = response.response_range.kvs[0]
        snapshot.modRevisions.set(keys[i]!, kv?.mod_revision ?? '0')
        const item = this.live(kv)
        if (item) snapshot.live.set(keys[i]!, item)
      })
      const ops = await plan(snapshot)
      const commit = await this.call(() =>
        this.client.kv.txn({
          compare: etcdKeys.map((key, i) => ({key, target: 'Mod', result: 'Equal', mod_revision: snapshot.modRevisions.get(keys[i]!)!})),
          success: ops,
        }),
      )
      if (commit.succeeded) return commit.header.revision
      const landed = await this.ownWriteLanded(ops)
      if (landed !== undefined) return landed
    }
    throw new CompareFailedError(`keys ${keys.map((key) => JSON.stringify(key)).join(', ')} kept changing; try again`)
  }

  /**
   * When a member dies mid-call, etcd3 sends the request again to another one; if the first copy
   * had committed, the second fails its compare on our own write. A put carrying this attempt's
   * write id tells: the mod revision where it landed, or undefined when it did not.
   */
  private async ownWriteLanded(ops: IRequestOp[]): Promise<string | undefined> {
    const put = ops.find((op) => op.request_put)?.request_put
    if (!put) return undefined
    const response = await this.call(() => this.client.kv.range({key: put.key}))
    const kv = response.kvs[0]
    return kv && writeIdOf(kv.value) === writeIdOf(put.value!) ? kv.mod_revision : undefined
  }

  /** The put request for `item`, on the lease of its expiry's second when it expires. */
  private async putOp(item: PutItem): Promise<IRequestOp> {
    const key = this.keyspace.key(item.key)
    const expiresMs = expiryMillis(item.expires)
    const lease = expiresMs === undefined ? '0' : await this.leaseEndingAt(Math.ceil(expiresMs / 1000))
    return {request_put: {key, value: encodeValue(item.value, expiresMs, randomBytes(8).toString('hex')), lease}}
  }

  /**
   * A lease that ends at or after `second` and not much later, shared by everything expiring in it.
   * One that was never attached to anything (a write that lost its race) just runs out.
   */
  private leaseEndingAt(second: number): Promise<string> {
    const nowMs = this.clock.now().getTime()
    for (const held of this.leases.keys()) if (held * 1000 <= nowMs) this.leases.delete(held)
    let lease = this.leases.get(second)
    if (!lease) {
      const ttlSeconds = Math.max(1, Math.ceil((second * 1000 - nowMs) / 1000))
      lease = this.call(() => this.client.leaseClient.leaseGrant({TTL: ttlSeconds})).then((granted) => granted.ID)
      lease.catch(() => this.leases.delete(second))
      this.leases.set(second, lease)
    }
    return lease
  }

  private live(kv: IKeyValue | undefined): Item | undefined {
    if (!kv) return undefined
    const {item, expiresMs} = this.keyspace.toItem(kv)
    return expiresMs === undefined || expiresMs > this.clock.now().getTime() ? item : undefined
  }

  private watchSource() {
    return {
      client: this.client,
      keyspace: this.keyspace,
      peers: this.config.peers,
      compactedThrough: (afterRevision: number) => this.compactedThrough(afterRevision),
    }
  }

  /**
   * etcd cancels a watch whose start revision is compacted without saying through where; a
   * read at a compacted revision fails the same way, so search for the oldest one still kept.
   */
  private async compactedThrough(afterRevision: number): Promise<number | undefined> {
    const isKept = async (revision: number) => {
      try {
        await withEtcd(this.config.peers, this.timeoutMs, () => this.client.kv.range({key: this.keyspace.range('').key, revision, count_only: true}))
        return true
      } catch (error) {
        if (/compacted/.test(String((error as Error).message))) return false
        throw error
      }
    }
    if (await isKept(afterRevision + 1)) return undefined
    let compacted = afterRevision + 1
    let kept = Number((await this.call(() => this.client.kv.range({key: this.keyspace.range('').key, count_only: true}))).header.revision)
    while (kept - compacted > 1) {
      const middle = Math.floor((compacted + kept) / 2)
      if (await isKept(middle)) kept = middle
      else compacted = middle
    }
    return kept - 1
  }

  private assertOpen(): void {
    if (this.closed) throw new Error('backend is closed')
  }
}

/** The item as written: `revision` is the transaction's (a put's) header revision. */
function written(item: PutItem, revision: string): Item {
  const result: Item = {key: item.key, value: item.value, revision: Number(revision)}
  if (item.expires !== undefined) result.expires = new Date(item.expires.getTime())
  return result
}
