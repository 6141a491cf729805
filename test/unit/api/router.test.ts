import assert from 'node:assert/strict'
import http from 'node:http'
import net, {type AddressInfo} from 'node:net'
import {after, before, describe, test} from 'node:test'
import {gunzipSync} from 'node:zlib'
import type {ApiIdentity} from '../../../src/api/identity.js'
import {Router} from '../../../src/api/router.js'

// The router behind the auth API, on a real HTTP server: what a caller gets for odd paths.

describe('Router: request paths', () => {
  const internal: unknown[] = []
  const identity: ApiIdentity = {kind: 'anonymous', remoteAddr: '127.0.0.1', publicKey: 'ssh-ed25519 AAAA'}
  // POST /v1/events keeps the body it is given, as the event store does.
  const router = new Router()
    .add('GET', '/v1/users/:name', ({params}) => ({name: params.name}))
    .add('POST', '/v1/events', ({body}) => ({stored: JSON.stringify(body).length}))
    .add('GET', '/v1/nodes', () => Array.from({length: 2000}, (_, i) => ({name: `node-${i}`, labels: {env: 'prod'}})))
  const server = http.createServer((req, res) => void router.serve(req, res, identity, (err) => internal.push(err)))
  let base = ''
  before(async () => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  })
  after(() => new Promise<void>((resolve) => server.close(() => resolve())))

  test('a large answer comes gzipped to a client that accepts it, plain to one that does not; a small one always plain', async () => {
    const get = (path: string, headers: Record<string, string>) =>
      new Promise<{headers: http.IncomingHttpHeaders; body: Buffer}>((resolve, reject) => {
        http.get(`${base}${path}`, {headers}, (res) => {
          const chunks: Buffer[] = []
          res.on('data', (c: Buffer) => chunks.push(c)).on('end', () => resolve({headers: res.headers, body: Buffer.concat(chunks)})).on('error', reject)
        }).on('error', reject)
      })
    const packed = await get('/v1/nodes', {'accept-encoding': 'gzip, deflate'})
    assert.equal(packed.headers['content-encoding'], 'gzip')
    const plain = await get('/v1/nodes', {})
    assert.equal(plain.headers['content-encoding'], undefined)
    assert.deepEqual(JSON.parse(gunzipSync(packed.body).toString('utf8')), JSON.parse(plain.body.toString('utf8')))
    assert.ok(packed.body.length * 5 < plain.body.length, `gzipped ${packed.body.length} bytes of ${plain.body.length}`)
    assert.equal((await get('/v1/users/alice', {'accept-encoding': 'gzip'})).headers['content-encoding'], undefined)
  })

  test('percent-escapes in a parameter are decoded', async () => {
    const res = await fetch(`${base}/v1/users/al%20ice`)
    assert.equal(res.status, 200)
    assert.deepEqual(await res.json(), {name: 'al ice'})
  })

  test('a request target that is not a path ("//%") is a 400, and the server goes on', async () => {
    const {port} = server.address() as AddressInfo
    const statusLine = await new Promise<string>((resolve, reject) => {
      const socket = net.connect(port, '127.0.0.1', () => socket.write('GET //% HTTP/1.1\r\nHost: auth\r\nConnection: close\r\n\r\n'))
      socket.once('data', (data) => resolve(String(data).split('\r\n')[0]!))
      socket.once('error', reject)
    })
    assert.equal(statusLine, 'HTTP/1.1 400 Bad Request')
    assert.equal((await fetch(`${base}/v1/users/bob`)).status, 200)
  })

  for (const path of ['/v1/users/%E0%A4%A', '/v1/users/%', '/v1%/users/x']) {
    test(`a malformed percent-escape (${path}) is a 400 with a sentence, not an internal error`, async () => {
      internal.length = 0
      const res = await fetch(`${base}${path}`)
      assert.equal(res.status, 400)
      assert.deepEqual(await res.json(), {error: {kind: 'bad-parameter', message: 'malformed percent-escape in the request path (write "%" as %25)'}})
      assert.deepEqual(internal, [], 'nothing handed to the internal-error log')
    })
  }

  test('a body nested thousands deep is a 400, not a stack overflow logged as an internal error', async () => {
    internal.length = 0
    const res = await fetch(`${base}/v1/events`, {method: 'POST', body: `${'['.repeat(20_000)}${']'.repeat(20_000)}`})
    assert.equal(res.status, 400)
    assert.deepEqual(await res.json(), {error: {kind: 'bad-parameter', message: 'request body nests deeper than 64 levels'}})
    assert.deepEqual(internal, [])
    const ok = await fetch(`${base}/v1/events`, {method: 'POST', body: JSON.stringify({event: 'x', fields: {a: [1, {b: '[[[['}]}})})
    assert.equal(ok.status, 200)
  })
})
