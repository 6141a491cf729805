import assert from 'node:assert/strict'
import {createHash} from 'node:crypto'
import {createServer} from 'node:net'
import {Readable} from 'node:stream'
import {after, before, describe, test} from 'node:test'
import {ApiClient} from '../../../src/api/client.js'
import {Router} from '../../../src/api/router.js'
import {ApiServer} from '../../../src/api/server.js'
import {AUTH_SERVER_PRINCIPAL} from '../../../src/api/server-trust.js'
import {AccessDeniedError, NotFoundError} from '../../../src/lib/errors.js'
import {eventually} from '../node/helpers.js'
import {caPin, generateKeyPair, signHostCert, signUserCert, type KeyPair} from '../../../src/sshca/index.js'

// The auth API transport on loopback: HTTP over an SSH channel, certificates both ways.

const userCA = generateKeyPair()
const hostCA = generateKeyPair()
const otherCA = generateKeyPair()

function hostIdentity(ca: KeyPair, role: 'Auth' | 'Admin' | 'Node', principals: string[]) {
  const key = generateKeyPair()
  return {privateKey: key.privateKey, certificate: signHostCert({caPrivateKey: ca.privateKey, publicKey: key.publicKey, keyId: `${role.toLowerCase()}-uuid`, principals, role, authority: 'example.com'})}
}

/** `count` bytes of a fixed pattern, in 64 KiB pieces. */
function* bytes(count: number): Generator<Buffer> {
  for (let sent = 0; sent < count; sent += 65_536) yield Buffer.alloc(Math.min(65_536, count - sent), sent % 251)
}

async function readAll(body: AsyncIterable<Buffer>): Promise<Buffer> {
  const chunks: Buffer[] = []
  for await (const chunk of body) chunks.push(chunk)
  return Buffer.concat(chunks)
}

/** A list large enough to be sent gzipped (router.ts), varied enough to catch a garbled one. */
const manyRecords = Array.from({length: 5000}, (_, i) => ({name: `node-${i}`, addr: `10.0.${i >> 8}.${i & 255}:3022`, labels: {env: i % 3 ? 'prod' : 'dev', note: 'é ⟵'}}))

describe('auth API transport', () => {
  let server: ApiServer
  let port: number
  const failures: string[] = []

  before(async () => {
    const router = new Router()
      .add('GET', '/v1/whoami', ({identity}) => ({kind: identity.kind, name: identity.kind === 'user' ? identity.username : identity.kind === 'host' ? identity.role : 'anonymous'}))
      .add('POST', '/v1/echo/:word', ({params, body}) => ({word: params.word, body}))
      .add('GET', '/v1/missing', () => {
        throw new NotFoundError('user "bob" not found')
      })
      .addStream('PUT', '/v1/digest', async ({body}) => {
        const hash = createHash('sha256')
        for await (const chunk of body) hash.update(chunk as Buffer)
        return Readable.from([hash.digest('hex')])
      })
      .addStream('GET', '/v1/bytes/:count', ({params}) => Readable.from(bytes(Number(params.count))))
      .add('GET', '/v1/many', () => manyRecords)
    server = new ApiServer({
      hostKey: hostIdentity(hostCA, 'Auth', [AUTH_SERVER_PRINCIPAL]),
      trust: () => ({userCAs: [userCA.publicKey], hostCAs: [hostCA.publicKey]}),
      router,
      onAuthFailure: (f) => failures.push(f.error),
    })
    port = (await server.listen('127.0.0.1', 0)).port
  })
  after(async () => server.close())

  const client = (credentials: {privateKey: string; certificate?: string}, trust: ConstructorParameters<typeof ApiClient>[0]['trust'] = {hostCAs: [hostCA.publicKey]}) =>
    new ApiClient({host: '127.0.0.1', port, credentials, trust})

  test('a host certificate identifies its role; requests reuse one connection', async () => {
    const api = client(hostIdentity(hostCA, 'Admin', ['admin']))
    try {
      assert.deepEqual(await api.request('GET', '/v1/whoami'), {kind: 'host', name: 'Admin'})
      assert.deepEqual(await api.request('POST', '/v1/echo/hello', {a: 1}), {word: 'hello', body: {a: 1}})
      assert.equal(api.serverCert?.hostRole, 'Auth')
    } finally {
      await api.close()
    }
  })

  test('a large JSON answer (sent gzipped) arrives whole', async () => {
    const api = client(hostIdentity(hostCA, 'Admin', ['admin']))
    try {
      assert.deepEqual(await api.request('GET', '/v1/many'), manyRecords)
    } finally {
      await api.close()
    }
  })

  test('a user certificate identifies the user', async () => {
    const key = generateKeyPair()
    const certificate = signUserCert({caPrivateKey: userCA.privateKey, publicKey: key.publicKey, keyId: 'alice', principals: ['alice'], ttlMs: 3600_000, roles: ['editor'], traits: {}, routeToCluster: 'example.com'})
    const api = client({privateKey: key.privateKey, certificate})
    try {
      assert.deepEqual(await api.request('GET', '/v1/whoami'), {kind: 'user', name: 'alice'})
    } finally {
      await api.close()
    }
  })

  test('a plain key is anonymous; a pin lets a joining host trust the server', async () => {
    const api = client({privateKey: generateKeyPair().privateKey}, {caPins: [caPin(hostCA.publicKey)]})
    try {
      assert.deepEqual(await api.request('GET', '/v1/whoami'), {kind: 'anonymous', name: 'anonymous'})
    } finally {
      await api.close()
    }
  })

  test('a wrong pin is refused before any credential is sent', async () => {
    const api = client({privateKey: generateKeyPair().privateKey}, {caPins: [caPin(otherCA.publicKey)]})
    await assert.rejects(api.request('GET', '/v1/whoami'), /does not match --ca-pin/)
    await api.close()
  })

  test('a certificate from a foreign CA is refused and reported', async () => {
    const before = failures.length
    const api = client(hostIdentity(otherCA, 'Admin', ['admin']))
    await assert.rejects(api.request('GET', '/v1/whoami'), AccessDeniedError)
    await api.close()
    // Reported once the refused connection has closed (one event per connection).
    await eventually(() => (failures.length > before ? true : undefined), 'the refusal to be reported')
    assert.match(failures.at(-1)!, /not signed by a trusted/)
  })

  test('a server certificate from an untrusted host CA is refused', async () => {
    const api = client(hostIdentity(hostCA, 'Admin', ['admin']), {hostCAs: [otherCA.publicKey]})
    await assert.rejects(api.request('GET', '/v1/whoami'), /trusted certificate authority/)
    await api.close()
  })

  test('server errors arrive as the same error class and sentence', async () => {
    const api = client(hostIdentity(hostCA, 'Admin', ['admin']))
    try {
      await assert.rejects(api.request('GET', '/v1/missing'), (err: Error) => err instanceof NotFoundError && err.message === 'user "bob" not found')
      await assert.rejects(api.request('GET', '/v1/nope'), NotFoundError)
    } finally {
      await api.close()
    }
  })

  test('stream routes move bodies past the JSON cap over the SSH channel, beside JSON calls', async () => {
    const api = client(hostIdentity(hostCA, 'Admin', ['admin']))
    try {
      const size = 5 * 1024 * 1024
      const expected = createHash('sha256').update(Buffer.concat([...bytes(size)])).digest('hex')
      const digest = await api.stream('PUT', '/v1/digest', Readable.from(bytes(size)))
      assert.equal((await readAll(digest)).toString(), expected)
      const download = await api.stream('GET', `/v1/bytes/${size}`)
      assert.deepEqual(await api.request('GET', '/v1/whoami'), {kind: 'host', name: 'Admin'}, 'a JSON call while a stream is open')
      assert.equal(createHash('sha256').update(await readAll(download)).digest('hex'), expected)
      await assert.rejects(api.stream('GET', '/v1/nope'), NotFoundError)
    } finally {
      await api.close()
    }
  })

  /** Another auth server of the same cluster, answering GET /v1/which with its name. */
  const namedServer = async (name: string) => {
    const refused: string[] = []
    const other = new ApiServer({
      hostKey: hostIdentity(hostCA, 'Auth', [AUTH_SERVER_PRINCIPAL]),
      trust: () => ({userCAs: [userCA.publicKey], hostCAs: [hostCA.publicKey]}),
      router: new Router().add('GET', '/v1/which', () => ({name})),
      onAuthFailure: (f) => refused.push(f.error),
    })
    return {server: other, port: (await other.listen('127.0.0.1', 0)).port, refused}
  }

  test('an auth server that cannot be reached gives way to the next configured one; the client stays with it', async () => {
    const a = await namedServer('a')
    const b = await namedServer('b')
    const api = new ApiClient({host: '127.0.0.1', port: await closedPort(), fallbacks: [{host: '127.0.0.1', port: a.port}, {host: '127.0.0.1', port: b.port}], credentials: hostIdentity(hostCA, 'Node', ['n']), trust: {hostCAs: [hostCA.publicKey]}})
    try {
      assert.deepEqual(await api.request('GET', '/v1/which'), {name: 'a'}, 'past the one not listening')
      await a.server.close()
      await eventually(async () => (await api.request('GET', '/v1/which').catch(() => undefined)) ?? undefined, 'a request after a went away')
      assert.deepEqual(await api.request('GET', '/v1/which'), {name: 'b'})
      assert.equal(api.address, `127.0.0.1:${b.port}`)
    } finally {
      await api.close()
      await b.server.close()
    }
  })

  test('a refusal is final: the other auth servers are not asked', async () => {
    const before = failures.length
    const b = await namedServer('b')
    const api = new ApiClient({host: '127.0.0.1', port, fallbacks: [{host: '127.0.0.1', port: b.port}], credentials: hostIdentity(otherCA, 'Admin', ['admin']), trust: {hostCAs: [hostCA.publicKey]}})
    await assert.rejects(api.request('GET', '/v1/whoami'), AccessDeniedError)
    await api.close()
    await eventually(() => (failures.length === before + 1 ? true : undefined), 'the refusal reported by the first server')
    assert.deepEqual(b.refused, [], 'the second server never saw the foreign certificate')
    await b.server.close()
    const unreachable = new ApiClient({host: '127.0.0.1', port: await closedPort(), fallbacks: [{host: '127.0.0.1', port: await closedPort()}], credentials: hostIdentity(hostCA, 'Admin', ['admin']), trust: {hostCAs: [hostCA.publicKey]}})
    await assert.rejects(unreachable.request('GET', '/v1/whoami'), /cannot reach the auth server at 127\.0\.0\.1:\d+: connection refused/)
    await unreachable.close()
  })
})

/** A loopback port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const {port} = server.address() as {port: number}
  await new Promise((resolve) => server.close(resolve))
  return port
}
