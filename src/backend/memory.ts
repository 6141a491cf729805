// The in-memory Backend: for tests only (nothing persists, nothing is shared between processes).
// It mirrors the SQLite backend's model so the conformance suite means the same thing for both:
// one revision counter, a change log that watchers read from a cursor, expiry filtered on read
// and turned into 'delete' events by a sweeper.
import {BadParameterError, AlreadyExistsError} from '../lib/errors.js'
import {systemClock, type Clock} from '../lib/clock.js'
import type {Backend, Condition, Item, Operation, PutItem, WatchEvent, WatchOptions, Watcher} from './backend.js'
import {ChangeLogWatcher, type ChangeFeed} from './change-log-watcher.js'
import {assertValidKey, compareKeys} from './keys.js'
import {assertConditionHolds, assertUnchanged, mustExist, assertValidAfterRevision, assertValidAtomicWrite, assertValidLimit, expiryMillis} from './checks.js'

export interface MemoryBackendOptions {
  /** How often expired items are deleted (and reported to watchers). Default 1000 ms. */
  sweepIntervalMs?: number
  /** Change-log entries kept for watchers resuming with afterRevision. Default 10000. */
  changeLogMaxEvents?: number
}

interface StoredItem {
  value: string
  expires?: number
  revision: number
}

export class MemoryBackend implements Backend, ChangeFeed {
  private readonly items = new Map<string, StoredItem>()
  private revision = 0
  /** Every change in revision order; entry i has revision compactedThrough + 1 + i. */
  private changeLog: WatchEvent[] = []
  private compactedThrough = 0
  private readonly watchers = new Set<ChangeLogWatcher>()
  private readonly sweepTimer: NodeJS.Timeout
  private readonly changeLogMaxEvents: number
  private closed = false

  constructor(
    private readonly clock: Clock = systemClock,
    options: MemoryBackendOptions = {},
  ) {
    this.changeLogMaxEvents = options.changeLogMaxEvents ?? 10_000
    // Real time, not the clock: the sweep is periodic work whose result the clock decides (a
    // FakeClock moved a year would otherwise run a sweep per second of it).
    this.sweepTimer = setInterval(() => this.sweepExpired(), options.sweepIntervalMs ?? 1000)
    this.sweepTimer.unref()
  }

  async get(key: string): Promise<Item> {
    this.assertOpen()
    return toItem(key, this.mustGetLive(key))
  }

  async put(item: PutItem): Promise<Item> {
    this.assertOpen()
    assertValidKey(item.key)
    return this.write(item)
  }

  async create(item: PutItem): Promise<Item> {
    this.assertOpen()
    assertValidKey(item.key)
    if (this.getLive(item.key)) throw new AlreadyExistsError(`key ${JSON.stringify(item.key)} already exists`)
    return this.write(item)
  }

  async update(item: PutItem): Promise<Item> {
    this.assertOpen()
    this.mustGetLive(item.key)
    return this.write(item)
  }

  async compareAndSwap(expectedValue: string, replacement: PutItem): Promise<Item> {
    this.assertOpen()
    assertUnchanged(replacement.key, this.mustGetLive(replacement.key), expectedValue)
    return this.write(replacement)
  }

  async keepAlive(key: string, expires: Date): Promise<Item> {
    this.assertOpen()
    return this.write({key, value: this.mustGetLive(key).value, expires})
  }

  async delete(key: string): Promise<void> {
    this.assertOpen()
    this.mustGetLive(key)
    this.remove(key)
  }

  async getRange(prefix: string, limit?: number): Promise<Item[]> {
    this.assertOpen()
    assertValidLimit(limit)
    const now = this.clock.now().getTime()
    const keys = [...this.items.keys()].filter((key) => key.startsWith(prefix)).sort(compareKeys)
    const result: Item[] = []
    for (const key of keys) {
      if (limit !== undefined && result.length >= limit) break
      const stored = this.items.get(key)!
      if (isLive(stored, now)) result.push(toItem(key, stored))
    }
    return result
  }

  async deleteRange(prefix: string): Promise<number> {
    this.assertOpen()
    if (prefix === '') throw new BadParameterError('deleteRange needs a non-empty prefix')
    const now = this.clock.now().getTime()
    let live = 0
    for (const key of [...this.items.keys()].filter((k) => k.startsWith(prefix)).sort(compareKeys)) {
      // Expired ones go too; their 'delete' event is the one the sweeper would have sent.
      if (isLive(this.items.get(key)!, now)) live++
      this.remove(key)
    }
    return live
  }

  async atomicWrite(operations: Operation[], conditions: Condition[] = []): Promise<void> {
    this.assertOpen()
    assertValidAtomicWrite(operations, conditions)
    for (const condition of conditions) assertConditionHolds(condition, this.getLive(condition.key)?.value)
    for (const operation of operations) {
      if (operation.op === 'put') this.write(operation.item)
      else if (this.items.has(operation.key)) this.remove(operation.key)
    }
  }

  watch(options: WatchOptions = {}): Watcher {
    this.assertOpen()
    assertValidAfterRevision(options.afterRevision)
    const watcher = new ChangeLogWatcher(this, options, (w) => this.watchers.delete(w))
    this.watchers.add(watcher)
    return watcher
  }

  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    clearInterval(this.sweepTimer)
    for (const watcher of [...this.watchers]) watcher.close()
  }

  /** Deletes expired items, reporting each to watchers as a 'delete'. Runs periodically; tests call it directly. */
  sweepExpired(): number {
    if (this.closed) return 0
    const now = this.clock.now().getTime()
    const expired = [...this.items].filter(([, stored]) => !isLive(stored, now)).map(([key]) => key)
    for (const key of expired.sort(compareKeys)) this.remove(key)
    return expired.length
  }

  /** Prunes the change log beyond its size cap, and at least through `throughRevision` (tests force compaction so). */
  compactChangeLog(throughRevision = 0): void {
    const through = Math.min(this.revision, Math.max(throughRevision, this.revision - this.changeLogMaxEvents))
    if (through <= this.compactedThrough) return
    this.changeLog = this.changeLog.slice(through - this.compactedThrough)
    this.compactedThrough = through
  }

  readChanges(after: number, limit: number): WatchEvent[] | {compactedThrough: number} {
    if (after < this.compactedThrough) return {compactedThrough: this.compactedThrough}
    const start = after - this.compactedThrough
    // Copies: one watcher's consumer must not be able to change what another one receives.
    return this.changeLog.slice(start, start + limit).map(copyEvent)
  }

  currentRevision(): number {
    return this.revision
  }

  private write(item: PutItem): Item {
    const stored: StoredItem = {value: item.value, expires: expiryMillis(item.expires), revision: ++this.revision}
    this.items.set(item.key, stored)
    this.record({type: 'put', item: toItem(item.key, stored)})
    return toItem(item.key, stored)
  }

  private remove(key: string): void {
    this.items.delete(key)
    this.record({type: 'delete', item: {key, value: '', revision: ++this.revision}})
  }

  private record(event: WatchEvent): void {
    this.changeLog.push(event)
    if (this.changeLog.length > this.changeLogMaxEvents) this.compactChangeLog()
    for (const watcher of this.watchers) watcher.wake()
  }

  private getLive(key: string): StoredItem | undefined {
    const stored = this.items.get(key)
    return stored && isLive(stored, this.clock.now().getTime()) ? stored : undefined
  }

  private mustGetLive(key: string): StoredItem {
    assertValidKey(key)
    return mustExist(key, this.getLive(key))
  }

  private assertOpen(): void {
    if (this.closed) throw new Error('backend is closed')
  }
}

function isLive(stored: StoredItem, nowMs: number): boolean {
  return stored.expires === undefined || stored.expires > nowMs
}

function toItem(key: string, stored: StoredItem): Item {
  const item: Item = {key, value: stored.value, revision: stored.revision}
  if (stored.expires !== undefined) item.expires = new Date(stored.expires)
  return item
}

function copyEvent(event: WatchEvent): WatchEvent {
  const item: Item = {...event.item}
  if (event.item.expires) item.expires = new Date(event.item.expires)
  return {type: event.type, item}
}
