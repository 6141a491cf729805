import assert from 'node:assert/strict'
import {describe, test} from 'node:test'
import {NodeHostServers} from '../../../../../src/daemon/proxy/recording-proxy/node-host-keys.js'
import {FakeClock} from '../../../../../src/lib/clock.js'
import {generateKeyPair, signHostCert} from '../../../../../src/sshca/index.js'

// The host certificates the recording proxy presents as each node's: asked of auth once per node,
// kept until a quarter of their life is left, never kept when auth refused; one key, the proxy's own.

function fakeAuth(clock: FakeClock) {
  const ca = generateKeyPair()
  const asked: {name: string; publicKey: string}[] = []
  let refuse = false
  return {
    asked,
    refuseNext: () => (refuse = true),
    api: {
      async signNodeHostCertForProxy(name: string, publicKey: string) {
        asked.push({name, publicKey})
        if (refuse) {
          refuse = false
          throw new Error('auth is away')
        }
        return {certificate: signHostCert({caPrivateKey: ca.privateKey, publicKey, keyId: name, principals: [name], role: 'Node', authority: 'example.com', ttlMs: 3600_000, now: clock.now()})}
      },
    },
  }
}

describe('NodeHostServers', () => {
  test('one certificate per node, renewed when a quarter of its life is left, on one key', async () => {
    const clock = new FakeClock()
    const auth = fakeAuth(clock)
    const servers = new NodeHostServers(auth.api, clock, () => {})
    const first = await servers.server('node-a')
    assert.equal(await servers.server('node-a'), first, 'kept')
    await servers.server('node-b')
    assert.deepEqual(auth.asked.map((a) => a.name), ['node-a', 'node-b'])
    clock.advance(44 * 60_000)
    assert.equal(await servers.server('node-a'), first, 'still more than a quarter left')
    clock.advance(2 * 60_000)
    assert.notEqual(await servers.server('node-a'), first, 'renewed')
    assert.deepEqual(auth.asked.map((a) => a.name), ['node-a', 'node-b', 'node-a'])
    assert.equal(new Set(auth.asked.map((a) => a.publicKey)).size, 1, 'the same key each time')
  })

  test('a refusal is not kept: the next connection asks again', async () => {
    const clock = new FakeClock()
    const auth = fakeAuth(clock)
    const servers = new NodeHostServers(auth.api, clock, () => {})
    auth.refuseNext()
    await assert.rejects(servers.server('node-a'), /auth is away/)
    await servers.server('node-a')
    assert.equal(auth.asked.length, 2)
  })
})
