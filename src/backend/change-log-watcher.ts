// A Watcher that reads a backend's change log from a cursor (the last revision it has passed).
// Memory and SQLite both keep such a log; the watcher pulls a batch whenever its buffer runs dry
// and otherwise sleeps until the backend wakes it (after a local write, or a poll that saw another
// process write). Pulling on demand means a slow consumer never makes the backend buffer for it:
// it only falls behind the log, and learns so through WatchCompactedError.
import {WatchCompactedError, type WatchEvent, type WatchOptions, type Watcher} from './backend.js'
import {matchesAnyPrefix} from './keys.js'

/** How many log entries one pull reads; bounds memory per watcher, not correctness. */
const BATCH_SIZE = 512

export interface ChangeFeed {
  /**
   * Changes with revision > `after`, oldest first, at most `limit` of them; or, when some of
   * those changes have already been pruned, the revision the log was compacted through.
   */
  readChanges(after: number, limit: number): WatchEvent[] | {compactedThrough: number}
  /** The newest revision written so far; where a watch without `afterRevision` starts. */
  currentRevision(): number
}

export class ChangeLogWatcher implements Watcher, AsyncIterator<WatchEvent> {
  private cursor: number
  private readonly buffer: WatchEvent[] = []
  private sleeper: (() => void) | undefined
  private closed = false
  /** next() calls run one after another even if a caller does not await between them. */
  private queue: Promise<unknown> = Promise.resolve()

  constructor(
    private readonly feed: ChangeFeed,
    private readonly options: WatchOptions,
    private readonly onClose: (watcher: ChangeLogWatcher) => void,
  ) {
    // Read synchronously so that a write issued right after watch() returns is after the cursor.
    this.cursor = options.afterRevision ?? feed.currentRevision()
  }

  get isClosed(): boolean {
    return this.closed
  }

  [Symbol.asyncIterator](): AsyncIterator<WatchEvent> {
    return this
  }

  next(): Promise<IteratorResult<WatchEvent>> {
    const result = this.queue.then(() => this.pull())
    this.queue = result.catch(() => undefined)
    return result
  }

  /** Called by `for await` on break/throw: the loop is done with this watcher. */
  async return(): Promise<IteratorResult<WatchEvent>> {
    this.close()
    return {done: true, value: undefined}
  }

  /** Something may have been written: a sleeping pull should look again. */
  wake(): void {
    const sleeper = this.sleeper
    this.sleeper = undefined
    sleeper?.()
  }

  close(): void {
    if (this.closed) return
    this.closed = true
    this.buffer.length = 0
    this.onClose(this)
    this.wake()
  }

  private async pull(): Promise<IteratorResult<WatchEvent>> {
    for (;;) {
      if (this.closed) return {done: true, value: undefined}
      const event = this.buffer.shift()
      if (event) return {done: false, value: event}
      // fill() is synchronous, so no wake can slip in between "nothing new" and going to sleep.
      if (!this.fill()) await new Promise<void>((resolve) => (this.sleeper = resolve))
    }
  }

  /** Moves the cursor over the next batch; false when the log had nothing new. */
  private fill(): boolean {
    const batch = this.feed.readChanges(this.cursor, BATCH_SIZE)
    if (!Array.isArray(batch)) {
      const error = new WatchCompactedError(this.cursor, batch.compactedThrough)
      this.close()
      throw error
    }
    for (const event of batch) {
      this.cursor = event.item.revision
      if (matchesAnyPrefix(event.item.key, this.options.prefixes)) this.buffer.push(event)
    }
    return batch.length > 0
  }
}
