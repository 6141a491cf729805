// The embedded default Backend: one SQLite file (WAL) in the data dir.
//
// Every write runs in an IMMEDIATE transaction that takes the next revision from the `meta`
// table and appends a row to the `changes` log, so revisions stay monotonic and watchers stay
// correct even when several processes share the file. Watchers read `changes` from a cursor;
// they are woken at once by this instance's writes and by a poll (for other processes' writes).
// Expired items are filtered out of every read by time; a sweeper deletes them later and logs
// the 'delete' that tells watchers.
import {chmodSync, closeSync, mkdirSync, openSync} from 'node:fs'
import {dirname} from 'node:path'
import Database from 'better-sqlite3'
import {AlreadyExistsError, BadParameterError} from '../lib/errors.js'
import {systemClock, type Clock} from '../lib/clock.js'
import type {Backend, Condition, Item, Operation, PutItem, WatchEvent, WatchOptions, Watcher} from './backend.js'
import {ChangeLogWatcher, type ChangeFeed} from './change-log-watcher.js'
import {assertValidKey} from './keys.js'
import {migrate} from './sqlite-schema.js'
import {prepareStatements, prefixUpperBound, type ChangeRow, type ItemRow, type Statements} from './sqlite-statements.js'
import {assertConditionHolds, assertUnchanged, mustExist, assertValidAfterRevision, assertValidAtomicWrite, assertValidLimit, expiryMillis} from './checks.js'

export interface SqliteBackendOptions {
  /** How often watchers look for other processes' writes. Default 150 ms. */
  pollIntervalMs?: number
  /** How often expired items are deleted and the change log pruned. Default 1000 ms. */
  sweepIntervalMs?: number
  /** Changes younger than this stay in the log for watchers resuming from a revision. Default 10 min. */
  changeLogRetentionMs?: number
  /** Hard cap on the change log, whatever the age. Default 100000. */
  changeLogMaxEvents?: number
  /** How long a write waits for another process's write to finish. Default 5000 ms. */
  busyTimeoutMs?: number
  /** Errors in the background sweep; default: a process warning. */
  onBackgroundError?: (error: unknown) => void
}

/** Rows deleted per sweep transaction, so a mass expiry does not hold the write lock for long. */
const SWEEP_BATCH = 1000

export class SqliteBackend implements Backend, ChangeFeed {
  private readonly db: Database.Database
  private readonly sql: Statements
  private readonly watchers = new Set<ChangeLogWatcher>()
  private readonly options: Required<Omit<SqliteBackendOptions, 'onBackgroundError'>>
  private readonly onBackgroundError: (error: unknown) => void
  private readonly sweepTimer: NodeJS.Timeout
  private pollTimer: NodeJS.Timeout | undefined
  private lastPolledRevision = 0
  /**
   * The last change-log read, for the other watchers at the same cursor: every write wakes every
   * watcher, and most of them are at the same place in the log. `stamp` says what it is still
   * good for: it moves with each local write, compaction, and poll that saw another process write.
   */
  private lastRead: {after: number; limit: number; stamp: number; result: WatchEvent[] | {compactedThrough: number}} | undefined
  private logStamp = 0
  private closed = false

  /** Opens (creating if missing: file 0600, directory 0700) the backend file at `path`. */
  static open(path: string, clock: Clock = systemClock, options: SqliteBackendOptions = {}): SqliteBackend {
    createPrivateFile(path)
    return new SqliteBackend(path, clock, options)
  }

  private constructor(
    readonly path: string,
    private readonly clock: Clock,
    options: SqliteBackendOptions,
  ) {
    this.options = {
      pollIntervalMs: options.pollIntervalMs ?? 150,
      sweepIntervalMs: options.sweepIntervalMs ?? 1000,
      changeLogRetentionMs: options.changeLogRetentionMs ?? 10 * 60_000,
      changeLogMaxEvents: options.changeLogMaxEvents ?? 100_000,
      busyTimeoutMs: options.busyTimeoutMs ?? 5000,
    }
    this.onBackgroundError =
      options.onBackgroundError ?? ((error) => process.emitWarning(`backend sweep failed: ${String(error)}`))
    this.db = new Database(path, {timeout: this.options.busyTimeoutMs})
    try {
      this.db.pragma('journal_mode = WAL')
      this.db.pragma(`busy_timeout = ${this.options.busyTimeoutMs}`)
      // FULL: a commit survives power loss. Losing a CA rotation that certificates already use is worse than an fsync.
      this.db.pragma('synchronous = FULL')
      migrate(this.db, path)
      this.sql = prepareStatements(this.db)
    } catch (error) {
      this.db.close()
      throw error
    }
    // Real time, not the clock: the sweep is periodic work whose result the clock decides (a
    // FakeClock moved a year would otherwise run a sweep per second of it). So is the change poll.
    this.sweepTimer = setInterval(() => this.backgroundSweep(), this.options.sweepIntervalMs)
    this.sweepTimer.unref()
  }

  async get(key: string): Promise<Item> {
    this.assertOpen()
    return toItem(this.mustGetLive(key))
  }

  async put(item: PutItem): Promise<Item> {
    this.assertOpen()
    assertValidKey(item.key)
    return this.writeTransaction(() => this.writeRow(item))
  }

  async create(item: PutItem): Promise<Item> {
    this.assertOpen()
    assertValidKey(item.key)
    return this.writeTransaction(() => {
      if (this.getLive(item.key)) throw new AlreadyExistsError(`key ${JSON.stringify(item.key)} already exists`)
      return this.writeRow(item)
    })
  }

  async update(item: PutItem): Promise<Item> {
    this.assertOpen()
    return this.writeTransaction(() => {
      this.mustGetLive(item.key)
      return this.writeRow(item)
    })
  }

  async compareAndSwap(expectedValue: string, replacement: PutItem): Promise<Item> {
    this.assertOpen()
    return this.writeTransaction(() => {
      assertUnchanged(replacement.key, this.mustGetLive(replacement.key), expectedValue)
      return this.writeRow(replacement)
    })
  }

  async keepAlive(key: string, expires: Date): Promise<Item> {
    this.assertOpen()
    // NORMAL for this commit only: WAL order still holds (the next FULL commit's fsync covers it).
    this.db.pragma('synchronous = NORMAL')
    try {
      return this.writeTransaction(() => this.writeRow({key, value: this.mustGetLive(key).value, expires}))
    } finally {
      this.db.pragma('synchronous = FULL')
    }
  }

  async delete(key: string): Promise<void> {
    this.assertOpen()
    this.writeTransaction(() => {
      this.mustGetLive(key)
      this.deleteRow(key)
    })
  }

  async getRange(prefix: string, limit?: number): Promise<Item[]> {
    this.assertOpen()
    assertValidLimit(limit)
    const rows = this.sql.liveRange.all(prefix, prefixUpperBound(prefix), this.nowMs(), limit ?? -1)
    return rows.map(toItem)
  }

  async deleteRange(prefix: string): Promise<number> {
    this.assertOpen()
    if (prefix === '') throw new BadParameterError('deleteRange needs a non-empty prefix')
    return this.writeTransaction(() => {
      const now = this.nowMs()
      let live = 0
      // Expired rows go too; their 'delete' event is the one the sweeper would have logged.
      for (const row of this.sql.anyRange.all(prefix, prefixUpperBound(prefix))) {
        if (row.expires === null || row.expires > now) live++
        this.deleteRow(row.key)
      }
      return live
    })
  }

  async atomicWrite(operations: Operation[], conditions: Condition[] = []): Promise<void> {
    this.assertOpen()
    assertValidAtomicWrite(operations, conditions)
    // A throw inside the transaction rolls all of it back.
    this.writeTransaction(() => {
      for (const condition of conditions) assertConditionHolds(condition, this.getLive(condition.key)?.value)
      for (const operation of operations) {
        if (operation.op === 'put') this.writeRow(operation.item)
        else if (this.sql.exists.get(operation.key)) this.deleteRow(operation.key)
      }
    })
  }

  watch(options: WatchOptions = {}): Watcher {
    this.assertOpen()
    assertValidAfterRevision(options.afterRevision)
    const watcher = new ChangeLogWatcher(this, options, (w) => this.forgetWatcher(w))
    this.watchers.add(watcher)
    this.startPolling()
    return watcher
  }

  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    clearInterval(this.sweepTimer)
    this.stopPolling()
    for (const watcher of [...this.watchers]) watcher.close()
    this.db.close()
  }

  /** Deletes expired items, logging a 'delete' for each so watchers see the expiry. Periodic; tests call it directly. */
  sweepExpired(): number {
    this.assertOpen()
    let swept = 0
    for (;;) {
      const batch = this.writeTransaction(() => {
        const keys = this.sql.expiredKeys.all(this.nowMs(), SWEEP_BATCH)
        for (const key of keys) this.deleteRow(key)
        return keys.length
      })
      swept += batch
      if (batch < SWEEP_BATCH) return swept
    }
  }

  /**
   * Prunes the change log: everything older than the retention window or beyond the size cap,
   * and at least everything through `throughRevision` (tests force compaction so). Periodic.
   */
  compactChangeLog(throughRevision = 0): void {
    this.assertOpen()
    this.db
      .transaction(() => {
        const current = this.currentRevision()
        const byAge = this.sql.lastRevisionRecordedBefore.get(this.nowMs() - this.options.changeLogRetentionMs) ?? 0
        const through = Math.min(
          current,
          Math.max(throughRevision, byAge, current - this.options.changeLogMaxEvents),
        )
        if (through <= this.compactedThrough()) return
        this.sql.deleteChangesThrough.run(through)
        this.sql.setMeta.run(through, 'compacted_through')
      })
      .immediate()
    this.logStamp++
  }

  readChanges(after: number, limit: number): WatchEvent[] | {compactedThrough: number} {
    const last = this.lastRead
    if (last && last.after === after && last.limit === limit && last.stamp === this.logStamp) return last.result
    // One read transaction: the compaction mark and the rows come from the same snapshot.
    const result = this.db
      .transaction((): WatchEvent[] | {compactedThrough: number} => {
        const compactedThrough = this.compactedThrough()
        if (after < compactedThrough) return {compactedThrough}
        return this.sql.changesAfter.all(after, limit).map(toWatchEvent)
      })
      .deferred()
    this.lastRead = {after, limit, stamp: this.logStamp, result}
    return result
  }

  currentRevision(): number {
    return this.sql.getMeta.get('revision')!
  }

  private compactedThrough(): number {
    return this.sql.getMeta.get('compacted_through')!
  }

  /** Runs `fn` holding the write lock, then wakes this process's watchers (others find out by polling). */
  private writeTransaction<T>(fn: () => T): T {
    // IMMEDIATE takes the write lock up front; a deferred read-then-write could fail with SQLITE_BUSY
    // mid-transaction, which busy_timeout cannot retry.
    const result = this.db.transaction(fn).immediate()
    this.logStamp++
    // A wake that finds nothing new (a no-op atomicWrite) costs one empty read.
    for (const watcher of this.watchers) watcher.wake()
    return result
  }

  /** Inside a write transaction: stores `item` under a fresh revision and logs the 'put'. */
  private writeRow(item: PutItem): Item {
    const expires = expiryMillis(item.expires) ?? null
    const revision = this.sql.nextRevision.get()!
    this.sql.upsert.run(item.key, item.value, expires, revision)
    this.sql.logChange.run(revision, 'put', item.key, item.value, expires, this.nowMs())
    return toItem({key: item.key, value: item.value, expires, revision})
  }

  /** Inside a write transaction: removes `key` under a fresh revision and logs the 'delete'. */
  private deleteRow(key: string): void {
    const revision = this.sql.nextRevision.get()!
    this.sql.deleteItem.run(key)
    this.sql.logChange.run(revision, 'delete', key, null, null, this.nowMs())
  }

  private getLive(key: string): ItemRow | undefined {
    return this.sql.liveItem.get(key, this.nowMs())
  }

  private mustGetLive(key: string): ItemRow {
    assertValidKey(key)
    return mustExist(key, this.getLive(key))
  }

  private backgroundSweep(): void {
    try {
      this.sweepExpired()
      this.compactChangeLog()
    } catch (error) {
      if (!this.closed) this.onBackgroundError(error)
    }
  }

  private startPolling(): void {
    if (this.pollTimer) return
    this.lastPolledRevision = this.currentRevision()
    this.pollTimer = setInterval(() => this.poll(), this.options.pollIntervalMs)
    this.pollTimer.unref()
  }

  private stopPolling(): void {
    clearInterval(this.pollTimer)
    this.pollTimer = undefined
  }

  /** Wakes the watchers when the revision moved, which catches other processes' writes. */
  private poll(): void {
    let revision: number
    try {
      revision = this.currentRevision()
    } catch {
      revision = Number.NaN // let the watchers' own reads surface the error
    }
    if (revision === this.lastPolledRevision) return
    this.lastPolledRevision = revision
    this.logStamp++
    for (const watcher of this.watchers) watcher.wake()
  }

  private forgetWatcher(watcher: ChangeLogWatcher): void {
    this.watchers.delete(watcher)
    if (this.watchers.size === 0) this.stopPolling()
  }

  private nowMs(): number {
    return this.clock.now().getTime()
  }

  private assertOpen(): void {
    if (this.closed) throw new Error(`backend ${this.path} is closed`)
  }
}

/** Creates the file (0600) and its directory (0700) if missing, before SQLite does so with default modes. */
function createPrivateFile(path: string): void {
  mkdirSync(dirname(path), {recursive: true, mode: 0o700})
  let fd: number
  try {
    fd = openSync(path, 'wx', 0o600)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return
    throw error
  }
  closeSync(fd)
  chmodSync(path, 0o600) // the umask may have taken bits away; say exactly what we mean
}

function toItem(row: ItemRow): Item {
  const item: Item = {key: row.key, value: row.value, revision: row.revision}
  if (row.expires !== null) item.expires = new Date(row.expires)
  return item
}

function toWatchEvent(row: ChangeRow): WatchEvent {
  if (row.type === 'delete') return {type: 'delete', item: {key: row.key, value: '', revision: row.revision}}
  return {type: 'put', item: toItem({key: row.key, value: row.value ?? '', expires: row.expires, revision: row.revision})}
}
