import type {Backend, Item, Watcher} from '../backend/backend.js'

// A service's records under one key prefix, held in memory and kept current by the backend's
// watch (memory and SQLite from their change log, etcd from its own), so that reading all of them
// (`tsh ls` of 10,000 nodes) costs no storage round trip and no parsing. This process's own writes
// are applied as soon as they return, so a read after a write sees it; the watch brings other auth
// servers' writes and expiries. Each key remembers the newest revision seen for it, so an event
// older than what is held (a write this process applied already) changes nothing. When the watch
// fails (its history compacted, the backend away) the next read starts again from a fresh range.

interface Entry<T> {
  revision: number
  /** Both absent: deleted (kept so that an older event for the key is not applied over the delete). */
  value?: T
  /** The item as stored (its expiry; what writes that build on it, keepAlive, commit on). */
  item?: Item
}

/** The entry's item when it holds one that has not expired at `at` (ms). */
function liveItem<T>(entry: Entry<T> | undefined, at: number): Item | undefined {
  const item = entry?.item
  return item && (!item.expires || item.expires.getTime() > at) ? item : undefined
}

export class WatchedItems<T> {
  private entries = new Map<string, Entry<T>>()
  private ready: Promise<void> | undefined
  private watcher: Watcher | undefined
  private newestRevision = 0
  private closed = false

  constructor(
    private readonly backend: Backend,
    private readonly prefix: string,
    private readonly parse: (item: Item) => T,
    private readonly onWatchError: (err: Error) => void = () => {},
  ) {}

  /** The items not expired at `now` (loaded, and the watch started, at the first call). */
  async values(now: Date): Promise<T[]> {
    if (this.closed) return (await this.backend.getRange(this.prefix)).map(this.parse)
    this.ready ??= this.start()
    await this.ready
    const out: T[] = []
    const at = now.getTime()
    for (const entry of this.entries.values()) if (liveItem(entry, at)) out.push(entry.value!)
    return out
  }

  /** The value at `key` if live at `now` (loaded, and the watch started, at the first call). */
  async get(key: string, now: Date): Promise<T | undefined> {
    if (this.closed) return undefined
    this.ready ??= this.start()
    await this.ready
    const entry = this.entries.get(key)
    return liveItem(entry, now.getTime()) ? entry!.value : undefined
  }

  /** The stored item at `key` as last seen, when held and live at `now`. */
  held(key: string, now: Date): Item | undefined {
    return liveItem(this.entries.get(key), now.getTime())
  }

  /** A write this process made to the backend, as it returned. */
  wrote(item: Item): void {
    this.put(item)
  }

  /**
   * A delete this process made. The backend does not say its revision; the newest one seen so far
   * stands in, so a later write to the key (from anywhere) still applies.
   */
  deleted(key: string): void {
    this.remove(key, this.newestRevision)
  }

  /**
   * Keeps the held items in this order from now on (new ones come last): `values` then returns
   * them sorted as long as only existing items change, as heartbeats change nodes.
   */
  reorder(compare: (a: T, b: T) => number): void {
    const held = [...this.entries]
    const live = held.filter(([, e]) => e.value !== undefined).sort(([, a], [, b]) => compare(a.value!, b.value!))
    this.entries = new Map([...live, ...held.filter(([, e]) => e.value === undefined)])
  }

  close(): void {
    this.closed = true
    this.watcher?.close()
  }

  private async start(): Promise<void> {
    // Watch first, then read: no write falls between the two.
    const watcher = this.backend.watch({prefixes: [this.prefix]})
    try {
      const items = await this.backend.getRange(this.prefix)
      this.entries = new Map()
      for (const item of items) this.put(item)
    } catch (err) {
      watcher.close()
      this.ready = undefined
      throw err
    }
    this.watcher = watcher
    void this.follow(watcher)
  }

  private async follow(watcher: Watcher): Promise<void> {
    try {
      for await (const event of watcher) {
        if (event.type === 'put') this.put(event.item)
        else this.remove(event.item.key, event.item.revision)
      }
    } catch (err) {
      if (!this.closed) this.onWatchError(err as Error)
    } finally {
      watcher.close()
      // Read everything again at the next call (unless a newer start already replaced this one).
      if (this.watcher === watcher) {
        this.watcher = undefined
        this.ready = undefined
      }
    }
  }

  private put(item: Item): void {
    this.newestRevision = Math.max(this.newestRevision, item.revision)
    const held = this.entries.get(item.key)
    if (held && held.revision >= item.revision) return
    this.entries.set(item.key, {revision: item.revision, value: this.parse(item), item})
  }

  private remove(key: string, revision: number): void {
    this.newestRevision = Math.max(this.newestRevision, revision)
    const held = this.entries.get(key)
    if (held && held.revision > revision) return
    this.entries.set(key, {revision})
  }
}
