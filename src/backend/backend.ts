// The storage seam. Every implementation (memory for tests, SQLite embedded default,
// etcd for HA later) passes the same conformance suite in test/unit/backend/conformance.ts.
// Keys are '/'-separated strings ("/users/alice/params"); values are strings (JSON by convention).
// Keys sort by Unicode code point (the same as UTF-8 byte order, which is what etcd and SQLite use).
// Nothing here may assume a single process or a SQL engine: etcd must fit the same shape.

export interface Item {
  key: string
  value: string
  /** Absent: never expires. An expired item is invisible to every read. */
  expires?: Date
  /**
   * Monotonic per backend; bumps on every write to the key. Items written by one atomicWrite may
   * share a revision (etcd) or get consecutive ones (SQLite, memory): never rely on either.
   */
  revision: number
}

export interface PutItem {
  key: string
  value: string
  expires?: Date
}

export type Condition =
  | {key: string; kind: 'exists'}
  | {key: string; kind: 'not-exists'}
  | {key: string; kind: 'value-equals'; value: string}

export type Operation = {op: 'put'; item: PutItem} | {op: 'delete'; key: string}

export interface WatchEvent {
  type: 'put' | 'delete'
  /** For 'delete' only key and revision are meaningful. */
  item: Item
}

export interface WatchOptions {
  /** Only keys starting with one of these (all keys when empty or absent). */
  prefixes?: string[]
  /** Deliver changes with revision > this; absent: only changes from now on. */
  afterRevision?: number
}

export interface Watcher extends AsyncIterable<WatchEvent> {
  close(): void
}

export interface Backend {
  /** Throws NotFoundError when missing or expired. */
  get(key: string): Promise<Item>
  /** Creates or overwrites. */
  put(item: PutItem): Promise<Item>
  /** Throws AlreadyExistsError when the key exists (and is not expired). */
  create(item: PutItem): Promise<Item>
  /** Throws NotFoundError when the key does not exist. */
  update(item: PutItem): Promise<Item>
  /** Replaces only if the current value equals `expectedValue`; throws CompareFailedError otherwise (NotFoundError when missing). */
  compareAndSwap(expectedValue: string, replacement: PutItem): Promise<Item>
  /**
   * Moves a live item's expiry to `expires`, value unchanged, under a fresh revision (watchers see
   * a 'put'); NotFoundError when missing or expired. Presence heartbeats use it: a backend may
   * commit it without waiting for the disk, since losing one only brings the expiry nearer and the
   * next heartbeat renews it (SQLite does; everything else is committed durably). `current` is
   * the item as the caller last saw it: etcd then commits on its revision without reading the key,
   * and reads it only when it changed since.
   */
  keepAlive(key: string, expires: Date, current?: Item): Promise<Item>
  /** Throws NotFoundError when missing. */
  delete(key: string): Promise<void>
  /** Items whose key starts with `prefix`, sorted by key; expired items excluded. */
  getRange(prefix: string, limit?: number): Promise<Item[]>
  /** Deletes every key with this prefix; returns how many (live ones). An empty prefix is refused (BadParameterError). */
  deleteRange(prefix: string): Promise<number>
  /**
   * All conditions hold and all operations apply, or nothing does (CompareFailedError naming the failed key).
   * A 'delete' of a missing key is a no-op. Two operations on the same key are refused (BadParameterError),
   * as etcd refuses them in one transaction. Conditions see expired items as missing.
   */
  atomicWrite(operations: Operation[], conditions?: Condition[]): Promise<void>
  /**
   * Changes, including expiries (as 'delete'), in revision order. Without `afterRevision` the watch
   * starts at the moment of the call: every write that begins after watch() returns is delivered.
   * If changes after `afterRevision` are no longer kept, the iteration throws WatchCompactedError:
   * re-read with getRange and watch again.
   */
  watch(options?: WatchOptions): Watcher
  close(): Promise<void>
}

/**
 * The changes a watcher asked for have been pruned from the backend's history (etcd calls this
 * compaction). The caller must re-read its state and start a new watch.
 */
export class WatchCompactedError extends Error {
  constructor(
    readonly afterRevision: number,
    readonly compactedThrough: number,
  ) {
    super(`changes after revision ${afterRevision} are no longer kept (history starts after ${compactedThrough})`)
    this.name = 'WatchCompactedError'
  }
}
