import {describe, test} from 'node:test'
import assert from 'node:assert/strict'
import type {Readable} from 'node:stream'
import {MemoryBackend, type Watcher} from '../../../../src/backend/index.js'
import {SharedFeed} from '../../../../src/daemon/auth/shared-feed.js'
import {poll} from '../../../helpers/eventually.js'

/** A feed of the values under /cas/, with a count of the backend watches it holds open. */
function casFeed(backend: MemoryBackend) {
  const open = new Set<Watcher>()
  const feed = new SharedFeed({
    watch: () => {
      const watcher = backend.watch({prefixes: ['/cas/']})
      open.add(watcher)
      const close = watcher.close.bind(watcher)
      watcher.close = () => {
        open.delete(watcher)
        close()
      }
      return watcher
    },
    state: async () => JSON.stringify((await backend.getRange('/cas/')).map((item) => item.value)),
  })
  return {feed, open}
}

/** The lines a reader has received so far, as they arrive. */
function collect(stream: Readable): string[] {
  const lines: string[] = []
  let buffered = ''
  stream.on('data', (chunk: Buffer) => {
    buffered += chunk.toString()
    for (let nl = buffered.indexOf('\n'); nl >= 0; nl = buffered.indexOf('\n')) {
      lines.push(buffered.slice(0, nl))
      buffered = buffered.slice(nl + 1)
    }
  })
  return lines
}

describe('SharedFeed', () => {
  test('a hundred readers share one backend watch; each gets the state now, then every change once', async () => {
    const backend = new MemoryBackend()
    await backend.put({key: '/cas/host', value: 'v1'})
    const {feed, open} = casFeed(backend)
    const readers = Array.from({length: 100}, () => feed.subscribe())
    const received = readers.map(collect)
    await poll(() => received.every((lines) => lines.length === 1))
    assert.equal(open.size, 1)
    assert.ok(received.every((lines) => lines[0] === '["v1"]'))

    await backend.put({key: '/nodes/n1', value: 'not a CA'})
    await backend.put({key: '/cas/host', value: 'v2'})
    await poll(() => received.every((lines) => lines.length === 2))
    assert.ok(received.every((lines) => lines[1] === '["v2"]'))

    const late = collect(feed.subscribe())
    await poll(() => late.length === 1)
    assert.deepEqual(late, ['["v2"]'], 'a reader that joins later starts from the state now')
    assert.equal(open.size, 1)
    for (const reader of readers) reader.destroy()
    await backend.close()
  })

  test('the watch closes when the last reader leaves, and opens again for the next', async () => {
    const backend = new MemoryBackend()
    await backend.put({key: '/cas/host', value: 'v1'})
    const {feed, open} = casFeed(backend)
    const first = feed.subscribe()
    const firstLines = collect(first)
    await poll(() => firstLines.length === 1)
    first.destroy()
    await poll(() => feed.readerCount === 0)
    assert.equal(open.size, 0)

    await backend.put({key: '/cas/host', value: 'v2'})
    const again = collect(feed.subscribe())
    await poll(() => again.length === 1)
    assert.deepEqual(again, ['["v2"]'])
    assert.equal(open.size, 1)
    await backend.close()
  })

  test('a watch that ends ends every reader, and one that fails ends them with its error, so followers reconnect', async () => {
    const backend = new MemoryBackend()
    await backend.put({key: '/cas/host', value: 'v1'})
    const {feed, open} = casFeed(backend)
    const reader = feed.subscribe()
    const lines = collect(reader)
    await poll(() => lines.length === 1)
    const ended = new Promise<void>((resolve) => reader.once('end', resolve))
    await backend.close()
    await ended
    assert.equal(open.size, 0)

    const failing = new SharedFeed({
      watch: () => new MemoryBackend().watch(),
      state: async () => {
        throw new Error('backend unreachable')
      },
    })
    const broken = failing.subscribe()
    const error = await new Promise<Error>((resolve) => broken.once('error', resolve))
    assert.equal(error.message, 'backend unreachable')
    assert.equal(failing.readerCount, 0)
  })
})
