// Reads a Watcher one event at a time with a generous deadline, so a test fails (rather than
// hangs) when an event never comes, without ever asserting how long delivery took.
import type {WatchEvent, Watcher} from '../../../src/backend/index.js'

export const DELIVERY_TIMEOUT_MS = 10_000

export class WatchReader {
  private readonly iterator: AsyncIterator<WatchEvent>

  constructor(readonly watcher: Watcher) {
    this.iterator = watcher[Symbol.asyncIterator]()
  }

  async next(): Promise<WatchEvent> {
    const result = await withDeadline(this.iterator.next(), 'a watch event')
    if (result.done) throw new Error('the watch ended while an event was expected')
    return result.value
  }

  async take(count: number): Promise<WatchEvent[]> {
    const events: WatchEvent[] = []
    while (events.length < count) events.push(await this.next())
    return events
  }

  /** Resolves once the iteration reports done; fails if it yields an event instead. */
  async ended(): Promise<void> {
    const result = await withDeadline(this.iterator.next(), 'the end of the watch')
    if (!result.done) throw new Error(`expected the watch to end, got ${describeEvent(result.value)}`)
  }

  /** The rejection of the next read (for example WatchCompactedError). */
  async failure(): Promise<unknown> {
    let result: IteratorResult<WatchEvent>
    try {
      result = await withDeadline(this.iterator.next(), 'a watch failure')
    } catch (error) {
      return error
    }
    throw new Error(`expected the watch to fail, got ${result.done ? 'its end' : describeEvent(result.value)}`)
  }
}

/** "put /a=1" / "delete /a": compact enough to compare whole sequences with deepEqual. */
export function describeEvent(event: WatchEvent): string {
  return event.type === 'put' ? `put ${event.item.key}=${event.item.value}` : `delete ${event.item.key}`
}

export async function withDeadline<T>(promise: Promise<T>, what: string, ms = DELIVERY_TIMEOUT_MS): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms)
  })
  try {
    return await Promise.race([promise, deadline])
  } finally {
    clearTimeout(timer)
  }
}
