// A Watcher over one etcd watch. etcd3 multiplexes every watch of a client on one gRPC stream
// and, after a disconnection, resumes each from the last revision it delivered; so this class
// only converts events, filters by prefix and hands them out one next() at a time.
import type {Etcd3, IWatchResponse, Watcher as EtcdWatch} from 'etcd3'
import {WatchCompactedError, type WatchEvent, type WatchOptions, type Watcher} from './backend.js'
import type {EtcdKeyspace} from './etcd-codec.js'
import {toUserError} from './etcd-client.js'
import {matchesAnyPrefix} from './keys.js'

/**
 * Events received but not yet read. A consumer this far behind is told to re-read and watch
 * again (WatchCompactedError) rather than make the process hold an unbounded backlog.
 */
const MAX_BUFFERED_EVENTS = 100_000

export interface EtcdWatchSource {
  client: Etcd3
  keyspace: EtcdKeyspace
  peers: readonly string[]
  /** The revision history was compacted through, if changes after `afterRevision` are gone; undefined if they are kept. */
  compactedThrough(afterRevision: number): Promise<number | undefined>
}

export class EtcdWatcher implements Watcher, AsyncIterator<WatchEvent> {
  private readonly buffer: WatchEvent[] = []
  private failure: unknown
  private sleeper: (() => void) | undefined
  private closed = false
  private readonly watch: EtcdWatch
  private cancelled: Promise<void> | undefined
  /** next() calls run one after another even if a caller does not await between them. */
  private queue: Promise<unknown> = Promise.resolve()

  constructor(
    private readonly source: EtcdWatchSource,
    private readonly options: WatchOptions,
    /** The last revision already seen: the watch delivers changes after it. */
    private cursor: number,
    private readonly onClose: (watcher: EtcdWatcher) => void,
  ) {
    this.watch = this.start()
  }

  [Symbol.asyncIterator](): AsyncIterator<WatchEvent> {
    return this
  }

  next(): Promise<IteratorResult<WatchEvent>> {
    const result = this.queue.then(() => this.pull())
    this.queue = result.catch(() => undefined)
    return result
  }

  async return(): Promise<IteratorResult<WatchEvent>> {
    this.close()
    return {done: true, value: undefined}
  }

  close(): void {
    if (this.closed) return
    this.closed = true
    this.buffer.length = 0
    this.cancel()
    this.onClose(this)
    this.wake()
  }

  /** Resolves once etcd3 has let go of the watch (bounded: a dead stream never answers). */
  async stopped(): Promise<void> {
    let timer: NodeJS.Timeout | undefined
    await Promise.race([this.cancel(), new Promise<void>((resolve) => (timer = setTimeout(resolve, 2000)))])
    clearTimeout(timer)
  }

  private cancel(): Promise<void> {
    this.cancelled ??= this.watch.cancel().catch(() => undefined)
    return this.cancelled
  }

  /** Registers the etcd watch at once (etcd3 connects it in the background), so close() can always cancel it. */
  private start(): EtcdWatch {
    // One etcd watch over the longest common prefix of what was asked; the rest is filtered here.
    const range = this.source.keyspace.range(commonPrefix(this.options.prefixes ?? []))
    const watch = this.source.client
      .watch()
      .inRange({start: range.key, end: range.range_end})
      .startRevision(String(this.cursor + 1))
      .watcher()
    watch.on('data', (response: IWatchResponse) => this.receive(response))
    watch.on('error', (error: unknown) => void this.failed(error))
    return watch
  }

  private receive(response: IWatchResponse): void {
    if (this.closed) return
    for (const event of response.events) {
      // Several events may share a revision (one transaction).
      const revision = Number(event.kv.mod_revision)
      this.cursor = Math.max(this.cursor, revision)
      const key = this.source.keyspace.unprefix(event.kv.key)
      if (!matchesAnyPrefix(key, this.options.prefixes)) continue
      this.buffer.push(
        event.type === 'Put' ? {type: 'put', item: this.source.keyspace.toItem(event.kv).item} : {type: 'delete', item: {key, value: '', revision}},
      )
    }
    if (this.buffer.length > MAX_BUFFERED_EVENTS) {
      this.fail(new WatchCompactedError(this.cursor, this.cursor))
      return
    }
    this.wake()
  }

  /** etcd cancels a watch whose start is compacted away; anything else is a connection problem. */
  private async failed(error: unknown): Promise<void> {
    if (this.closed) return
    let compactedThrough: number | undefined
    try {
      compactedThrough = await this.source.compactedThrough(this.cursor)
    } catch {
      compactedThrough = undefined
    }
    this.fail(compactedThrough !== undefined ? new WatchCompactedError(this.cursor, compactedThrough) : toUserError(error, this.source.peers))
  }

  private fail(error: unknown): void {
    this.failure ??= error
    void this.cancel()
    this.wake()
  }

  private wake(): void {
    const sleeper = this.sleeper
    this.sleeper = undefined
    sleeper?.()
  }

  private async pull(): Promise<IteratorResult<WatchEvent>> {
    for (;;) {
      if (this.closed) return {done: true, value: undefined}
      const event = this.buffer.shift()
      if (event) return {done: false, value: event}
      if (this.failure !== undefined) {
        const failure = this.failure
        this.close()
        throw failure
      }
      await new Promise<void>((resolve) => (this.sleeper = resolve))
    }
  }
}

/** By code points, so the result never ends in half a surrogate pair. */
function commonPrefix(prefixes: readonly string[]): string {
  if (prefixes.length === 0) return ''
  let common = Array.from(prefixes[0]!)
  for (const prefix of prefixes) {
    while (!prefix.startsWith(common.join(''))) common = common.slice(0, -1)
  }
  return common.join('')
}
