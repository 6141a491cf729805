// One backend watch serving many readers: what every node and proxy follows (the CA state) must
// not cost a watcher per connection, or each write of a 10,000-node cluster wakes 10,000 of them.
// Each reader gets the current state as one line, then a line whenever the state changes.
import {PassThrough, type Readable} from 'node:stream'
import type {Watcher} from '../../backend/index.js'

export interface SharedFeedSource {
  /** A watch on what the state is made of; opened before the first read of the state. */
  watch(): Watcher
  /** The state now, as the line readers get (without its newline). */
  state(): Promise<string>
}

export class SharedFeed {
  private readonly readers = new Set<PassThrough>()
  private watcher: Watcher | undefined
  /** The newest state read, once the first read finished. */
  private current: string | undefined

  constructor(private readonly source: SharedFeedSource) {}

  /** A stream of state lines; destroy it to stop reading. */
  subscribe(): Readable {
    const reader = new PassThrough()
    this.readers.add(reader)
    reader.once('close', () => this.leave(reader))
    if (this.current !== undefined) reader.write(`${this.current}\n`)
    if (!this.watcher) this.follow()
    return reader
  }

  /** How many readers share the watch (tests). */
  get readerCount(): number {
    return this.readers.size
  }

  private follow(): void {
    const watcher = this.source.watch()
    this.watcher = watcher
    void (async () => {
      this.publish(watcher, await this.source.state())
      for await (const _change of watcher) this.publish(watcher, await this.source.state())
      this.endReaders(watcher)
    })().catch((error: unknown) => this.endReaders(watcher, error instanceof Error ? error : new Error(String(error))))
  }

  /** The watch ended (the backend closing) or failed (compacted history): readers reconnect and start afresh. */
  private endReaders(from: Watcher, error?: Error): void {
    if (from !== this.watcher) return // we closed it: its last reader left
    // Out of the set now: an ended reader may close much later, and a watch started meanwhile
    // for new readers must not write to it.
    const ended = [...this.readers]
    this.readers.clear()
    this.reset()
    for (const reader of ended) {
      if (error) reader.destroy(error)
      else reader.end()
    }
  }

  private publish(from: Watcher, state: string): void {
    // A read that finished after the last reader left (or the watch failed) is no one's news.
    if (from !== this.watcher || state === this.current) return
    this.current = state
    for (const reader of this.readers) reader.write(`${state}\n`)
  }

  private leave(reader: PassThrough): void {
    this.readers.delete(reader)
    if (this.readers.size === 0) this.reset()
  }

  private reset(): void {
    this.watcher?.close()
    this.watcher = undefined
    this.current = undefined
  }
}
