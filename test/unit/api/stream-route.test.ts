import assert from 'node:assert/strict'
import {createHash} from 'node:crypto'
import http from 'node:http'
import type {AddressInfo} from 'node:net'
import {Readable} from 'node:stream'
import {after, before, describe, test} from 'node:test'
import {Client} from 'undici'
import {jsonCall, streamCall} from '../../../src/api/http-call.js'
import type {ApiIdentity} from '../../../src/api/identity.js'
import {callRoute, stream, types, type ApiTransport} from '../../../src/api/route.js'
import {MAX_BODY_BYTES, Router, serveRoutes} from '../../../src/api/router.js'
import {eventually} from '../../helpers/eventually.js'

// Stream routes on a real HTTP server: bodies far past the JSON cap move both ways, each side
// only as fast as the other reads (a paused reader holds the writer).

const TOTAL = 48 * MAX_BODY_BYTES
const CHUNK = 64 * 1024

/** TOTAL bytes in CHUNK pieces, made only when the stream is read; `produced` counts them. */
function producer(): Readable & {produced: number} {
  let index = 0
  const source = new Readable({
    highWaterMark: CHUNK,
    read() {
      if (source.produced >= TOTAL) return void this.push(null)
      source.produced += CHUNK
      this.push(Buffer.alloc(CHUNK, index++ % 251))
    },
  }) as Readable & {produced: number}
  source.produced = 0
  return source
}

const expectedDigest = (() => {
  const hash = createHash('sha256')
  for (let i = 0; i < TOTAL / CHUNK; i++) hash.update(Buffer.alloc(CHUNK, i % 251))
  return hash.digest('hex')
})()

/** A gate a reader waits at; open() lets it through. */
function gate(): {wait: Promise<void>; open(): void} {
  let open = () => {}
  const wait = new Promise<void>((resolve) => (open = resolve))
  return {wait, open}
}

/** Reads `body`, stopping at `pauseAt` bytes until `held` opens; resolves with the byte count and digest. */
async function consume(body: AsyncIterable<Buffer>, progress: {read: number}, pauseAt: number, held: Promise<void>): Promise<string> {
  const hash = createHash('sha256')
  for await (const chunk of body) {
    hash.update(chunk)
    progress.read += chunk.length
    if (progress.read >= pauseAt) await held
  }
  return hash.digest('hex')
}

/** Resolves once `count()` has stopped moving (the writer is held), polling; fails after 10 s. */
async function settled(count: () => number): Promise<number> {
  let last = -1
  let still = 0
  return eventually(() => {
    const now = count()
    still = now === last ? still + 1 : 0
    last = now
    return still >= 5 && now
  }, 'the writer to stop', {timeoutMs: 10_000, intervalMs: 20})
}

const BLOBS = {
  upload: stream('PUT', '/v1/blobs/:name'),
  download: stream('GET', '/v1/blobs/:name', types<{query: {from?: string}}>()),
}

describe('stream routes', () => {
  const identity: ApiIdentity = {kind: 'anonymous', remoteAddr: '127.0.0.1', publicKey: 'ssh-ed25519 AAAA'}
  const server = {
    progress: {read: 0},
    held: gate(),
    uploaded: {name: '', digest: ''},
    source: producer(),
  }
  const router = serveRoutes(new Router(), BLOBS, {
    upload: async ({params, body}) => {
      server.uploaded = {name: params.name, digest: await consume(body, server.progress, 2 * MAX_BODY_BYTES, server.held.wait)}
    },
    download: ({params, query}) => {
      assert.deepEqual([params.name, query.from], ['rec-1', '0'])
      return server.source
    },
  })
  const httpServer = http.createServer((req, res) => void router.serve(req, res, identity, (err) => assert.fail(err as Error)))
  let client: Client
  let transport: ApiTransport
  before(async () => {
    await new Promise<void>((resolve) => httpServer.listen(0, '127.0.0.1', resolve))
    client = new Client(`http://127.0.0.1:${(httpServer.address() as AddressInfo).port}`)
    transport = {
      request: (method, path, body) => jsonCall(client, method, path, body),
      stream: (method, path, body) => streamCall(client, method, path, body),
      close: () => client.close(),
    }
  })
  after(async () => {
    await transport.close()
    await new Promise<void>((resolve) => httpServer.close(() => resolve()))
  })

  test('an upload larger than the JSON cap arrives whole; a paused server holds the client writing it', async () => {
    const source = producer()
    const call = callRoute(transport, BLOBS.upload, {params: {name: 'rec-1'}, body: source})
    const held = await settled(() => source.produced)
    assert.ok(server.progress.read >= 2 * MAX_BODY_BYTES, 'the server read past the JSON cap before pausing')
    assert.ok(held < TOTAL / 2, `the client stopped writing while the server paused (${held} of ${TOTAL} bytes made)`)
    server.held.open()
    const response = await call
    for await (const _ of response) assert.fail('an upload answers with an empty body')
    assert.deepEqual(server.uploaded, {name: 'rec-1', digest: expectedDigest})
    assert.equal(source.produced, TOTAL)
  })

  test('a download larger than the JSON cap arrives whole; a paused client holds the server writing it', async () => {
    const progress = {read: 0}
    const held = gate()
    const response = await callRoute(transport, BLOBS.download, {params: {name: 'rec-1'}, query: {from: '0'}})
    const reading = consume(response, progress, 2 * MAX_BODY_BYTES, held.wait)
    const made = await settled(() => server.source.produced)
    assert.ok(progress.read >= 2 * MAX_BODY_BYTES, 'the client read past the JSON cap before pausing')
    assert.ok(made < TOTAL / 2, `the server stopped writing while the client paused (${made} of ${TOTAL} bytes made)`)
    held.open()
    assert.equal(await reading, expectedDigest)
    assert.equal(progress.read, TOTAL)
  })

  test('a refusal before the stream starts comes back as the error', async () => {
    await assert.rejects(transport.stream('PUT', '/v1/nothing/here'), {name: 'NotFoundError', message: 'no such API endpoint: PUT /v1/nothing/here'})
  })
})
