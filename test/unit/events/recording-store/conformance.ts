// The one behavioural suite every RecordingStore passes (the file store auth runs, the memory twin
// tests use). It speaks only the interface plus the hooks in StoreUnderTest.
import {describe, test} from 'node:test'
import assert from 'node:assert/strict'
import {createHash, randomUUID} from 'node:crypto'
import {PassThrough, Readable} from 'node:stream'
import v8 from 'node:v8'
import vm from 'node:vm'
import type {RecordingStore} from '../../../../src/events/recording-store/index.js'
import {AlreadyExistsError, BadParameterError, CompareFailedError, NotFoundError} from '../../../../src/lib/errors.js'

export interface StoreUnderTest {
  store: RecordingStore
  /** A new store over the same data, as after a restart; omitted where data does not outlive the object. */
  reopen?(): RecordingStore
  dispose(): Promise<void>
}

export type StoreFactory = () => StoreUnderTest | Promise<StoreUnderTest>

export interface StoreTraits {
  /** Recordings live in the store object (the memory twin): no restart test, no memory bound. */
  inMemory?: boolean
}

const KiB = 1024
const MiB = 1024 * KiB

/** A body that yields `chunks` in turn. */
function bodyOf(...chunks: (string | Buffer)[]): Readable {
  return Readable.from(chunks.map((chunk) => Buffer.from(chunk)), {objectMode: false})
}

/** A body that yields `text` and then fails, like a connection dropped mid-upload. */
async function* brokenBody(text: string): AsyncGenerator<Buffer> {
  yield Buffer.from(text)
  throw new Error('connection reset')
}

async function readAll(stream: Readable): Promise<string> {
  const chunks: Buffer[] = []
  for await (const chunk of stream) chunks.push(chunk as Buffer)
  return Buffer.concat(chunks).toString()
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex')

/** The bytes live in ArrayBuffers after a full collection; a store that buffers a recording shows here. */
function liveBufferBytes(): number {
  v8.setFlagsFromString('--expose-gc')
  const gc = vm.runInNewContext('gc') as () => void
  gc()
  gc() // a second collection first finishes sweeping what the first freed, so the count is settled
  return process.memoryUsage().arrayBuffers
}

export function recordingStoreConformance(factory: StoreFactory, traits: StoreTraits = {}): void {
  function check(name: string, body: (t: StoreUnderTest, sid: string) => Promise<void>, options: {skip?: boolean} = {}): void {
    test(name, {skip: options.skip}, async () => {
      const t = await factory()
      try {
        await body(t, randomUUID())
      } finally {
        await t.dispose()
      }
    })
  }

  describe('uploading', () => {
    check('an unknown recording has 0 bytes uploaded and no stat', async ({store}, sid) => {
      assert.equal(await store.uploadedBytes(sid), 0)
      await assert.rejects(store.stat(sid), NotFoundError)
    })

    check('appends resume where the last one stopped, and the whole reads back once complete', async ({store}, sid) => {
      assert.equal(await store.append(sid, 0, bodyOf('hello ', 'wor')), 9)
      assert.equal(await store.uploadedBytes(sid), 9)
      assert.deepEqual(await store.stat(sid), {sid, size: 9, complete: false})
      assert.equal(await store.append(sid, 9, bodyOf('ld')), 11)
      assert.deepEqual(await store.complete(sid, {size: 11, sha256: sha256('hello world')}), {sid, size: 11, complete: true})
      assert.deepEqual(await store.stat(sid), {sid, size: 11, complete: true})
      assert.equal(await readAll(await store.open(sid)), 'hello world')
    })

    check('a body given as strings or an async generator is stored as its bytes', async ({store}, sid) => {
      async function* parts() { yield 'ab'; yield Buffer.from('cd') }
      assert.equal(await store.append(sid, 0, parts()), 4)
      await store.complete(sid, {size: 4})
      assert.equal(await readAll(await store.open(sid)), 'abcd')
    })

    check('an append at an offset other than the current size is refused and changes nothing', async ({store}, sid) => {
      await assert.rejects(store.append(sid, 3, bodyOf('x')), CompareFailedError)
      assert.equal(await store.uploadedBytes(sid), 0)
      await store.append(sid, 0, bodyOf('abc'))
      await assert.rejects(store.append(sid, 2, bodyOf('x')), CompareFailedError)
      await assert.rejects(store.append(sid, 4, bodyOf('x')), CompareFailedError)
      await assert.rejects(store.append(sid, -1, bodyOf('x')), BadParameterError)
      assert.equal(await store.uploadedBytes(sid), 3)
    })

    check('an append whose body fails half-way leaves the recording as it was', async ({store}, sid) => {
      await assert.rejects(store.append(sid, 0, brokenBody('lost')), /connection reset/)
      assert.equal(await store.uploadedBytes(sid), 0)
      await assert.rejects(store.stat(sid), NotFoundError)

      await store.append(sid, 0, bodyOf('kept'))
      await assert.rejects(store.append(sid, 4, brokenBody('lost')), /connection reset/)
      assert.equal(await store.uploadedBytes(sid), 4)
      await store.append(sid, 4, bodyOf('+more'))
      await store.complete(sid, {size: 9})
      assert.equal(await readAll(await store.open(sid)), 'kept+more')
    })

    check('a second writer while an append is in flight is refused, not interleaved', async ({store}, sid) => {
      const slow = new PassThrough()
      const first = store.append(sid, 0, slow)
      await assert.rejects(store.append(sid, 0, bodyOf('other')), CompareFailedError)
      await assert.rejects(store.complete(sid, {size: 0}), CompareFailedError)
      slow.end('mine')
      assert.equal(await first, 4)
      assert.equal(await store.append(sid, 4, bodyOf('!')), 5)
    })

    check('appends to different recordings do not wait for each other', async ({store}, sid) => {
      const other = randomUUID()
      const slow = new PassThrough()
      const first = store.append(sid, 0, slow)
      assert.equal(await store.append(other, 0, bodyOf('quick')), 5)
      slow.end('slow')
      assert.equal(await first, 4)
    })
  })

  describe('completing', () => {
    check('complete is idempotent with the same size and refuses another', async ({store}, sid) => {
      await store.append(sid, 0, bodyOf('abc'))
      await assert.rejects(store.complete(sid, {size: 4}), CompareFailedError)
      assert.deepEqual(await store.stat(sid), {sid, size: 3, complete: false})
      const done = await store.complete(sid, {size: 3})
      assert.deepEqual(await store.complete(sid, {size: 3, sha256: sha256('abc')}), done)
      await assert.rejects(store.complete(sid, {size: 2}), CompareFailedError)
      assert.equal(await readAll(await store.open(sid)), 'abc')
    })

    check('after complete, appends are refused and the size is what was uploaded', async ({store}, sid) => {
      await store.append(sid, 0, bodyOf('abc'))
      await store.complete(sid, {size: 3})
      await assert.rejects(store.append(sid, 3, bodyOf('d')), AlreadyExistsError)
      assert.equal(await store.uploadedBytes(sid), 3)
    })

    check('a wrong sha256 is refused and the upload stays incomplete', async ({store}, sid) => {
      await store.append(sid, 0, bodyOf('abc'))
      await assert.rejects(store.complete(sid, {size: 3, sha256: sha256('abd')}), BadParameterError)
      await assert.rejects(store.complete(sid, {size: 3, sha256: 'not hex'}), BadParameterError)
      assert.deepEqual(await store.stat(sid), {sid, size: 3, complete: false})
      await assert.rejects(store.open(sid), NotFoundError)
    })

    check('completing a recording nothing was uploaded for is NotFound', async ({store}, sid) => {
      await assert.rejects(store.complete(sid, {size: 0}), NotFoundError)
    })

    check('an empty recording can be uploaded and read', async ({store}, sid) => {
      assert.equal(await store.append(sid, 0, bodyOf()), 0)
      await store.complete(sid, {size: 0, sha256: sha256('')})
      assert.equal(await readAll(await store.open(sid)), '')
    })
  })

  describe('reading', () => {
    check('an unknown or incomplete recording cannot be opened', async ({store}, sid) => {
      await assert.rejects(store.open(sid), NotFoundError)
      await store.append(sid, 0, bodyOf('abc'))
      await assert.rejects(store.open(sid), NotFoundError)
    })

    check('a read can start at any byte up to the end, and no further', async ({store}, sid) => {
      await store.append(sid, 0, bodyOf('hello ', 'world'))
      await store.complete(sid, {size: 11})
      assert.equal(await readAll(await store.open(sid, {from: 0})), 'hello world')
      assert.equal(await readAll(await store.open(sid, {from: 4})), 'o world')
      assert.equal(await readAll(await store.open(sid, {from: 6})), 'world')
      assert.equal(await readAll(await store.open(sid, {from: 11})), '')
      await assert.rejects(store.open(sid, {from: 12}), BadParameterError)
      await assert.rejects(store.open(sid, {from: -1}), BadParameterError)
    })

    check('a read is a byte stream that buffers at most a little ahead of a slow reader', async ({store}, sid) => {
      const chunk = Buffer.alloc(64 * KiB, 7)
      await store.append(sid, 0, bodyOf(...Array.from({length: 64}, () => chunk))) // 4 MiB
      await store.complete(sid, {size: 4 * MiB})
      const stream = await store.open(sid)
      assert.equal(stream.readableObjectMode, false)
      let total = 0
      for await (const got of stream) {
        total += (got as Buffer).length
        assert.ok((got as Buffer).length <= MiB, `a chunk of ${(got as Buffer).length} bytes`)
        for (let turn = 0; turn < 5; turn++) await new Promise(setImmediate) // give a greedy producer room to run ahead
        assert.ok(stream.readableLength <= MiB, `${stream.readableLength} bytes buffered ahead of the reader`)
      }
      assert.equal(total, 4 * MiB)
    })

    check('a reader may stop early; the recording stays readable', async ({store}, sid) => {
      await store.append(sid, 0, bodyOf(Buffer.alloc(MiB, 1)))
      await store.complete(sid, {size: MiB})
      const stream = await store.open(sid)
      for await (const _ of stream) break
      assert.ok(stream.destroyed)
      assert.equal((await readAll(await store.open(sid, {from: MiB - 3}))).length, 3)
    })

    check('a 64 MiB recording is written and read back in constant memory', async ({store}, sid) => {
      const CHUNK = 64 * KiB
      const CHUNKS = 1024
      const written = createHash('sha256')
      const baseline = liveBufferBytes()
      let peak = 0
      const sample = () => { peak = Math.max(peak, liveBufferBytes() - baseline) }

      async function* generated(): AsyncGenerator<Buffer> {
        for (let i = 0; i < CHUNKS; i++) {
          const chunk = Buffer.alloc(CHUNK, i % 251)
          written.update(chunk)
          yield chunk
          if (i % 128 === 127) sample()
        }
      }
      assert.equal(await store.append(sid, 0, generated()), CHUNK * CHUNKS)
      const digest = written.digest('hex')
      await store.complete(sid, {size: CHUNK * CHUNKS, sha256: digest})

      const read = createHash('sha256')
      let readBytes = 0
      for await (const chunk of await store.open(sid)) {
        read.update(chunk as Buffer)
        readBytes += (chunk as Buffer).length
        if (readBytes % (8 * MiB) < (chunk as Buffer).length) sample()
      }
      assert.equal(readBytes, CHUNK * CHUNKS)
      assert.equal(read.digest('hex'), digest)
      if (!traits.inMemory) assert.ok(peak < 16 * MiB, `${(peak / MiB).toFixed(1)} MiB of buffers held while streaming 64 MiB`)
    })
  })

  describe('session ids', () => {
    const badIds = ['', '..', '../etc/passwd', 'a/b', '/tmp/x', `${randomUUID()}/../x`, randomUUID().toUpperCase(), `${randomUUID()}\0`, `${randomUUID()}.part`]
    check('ids that are not lowercase UUIDs are refused by every operation', async ({store}) => {
      for (const sid of badIds) {
        await assert.rejects(store.uploadedBytes(sid), BadParameterError, sid)
        await assert.rejects(store.append(sid, 0, bodyOf('x')), BadParameterError, sid)
        await assert.rejects(store.complete(sid, {size: 1}), BadParameterError, sid)
        await assert.rejects(store.open(sid), BadParameterError, sid)
        await assert.rejects(store.stat(sid), BadParameterError, sid)
      }
    })
  })

  describe('restarts', () => {
    check('a new store over the same data sees uploads in progress and complete ones', async (t, sid) => {
      const done = randomUUID()
      await t.store.append(done, 0, bodyOf('finished'))
      await t.store.complete(done, {size: 8})
      await t.store.append(sid, 0, bodyOf('half'))

      const again = t.reopen!()
      assert.deepEqual(await again.stat(done), {sid: done, size: 8, complete: true})
      assert.equal(await readAll(await again.open(done)), 'finished')
      assert.equal(await again.uploadedBytes(sid), 4)
      await again.append(sid, 4, bodyOf('-way'))
      await again.complete(sid, {size: 8})
      assert.equal(await readAll(await again.open(sid)), 'half-way')
    }, {skip: traits.inMemory})
  })
}
