import assert from 'node:assert/strict'
import {describe, test} from 'node:test'
import type {ProxyInfo} from '../../../../src/api/auth-api.js'
import {ProxyPresence, PROXY_LIST_POLL_MS, type ProxyAnnouncement} from '../../../../src/daemon/proxy/proxy-presence.js'
import {FakeClock} from '../../../../src/lib/clock.js'
import {NotFoundError} from '../../../../src/lib/errors.js'
import {ProxyService} from '../../../../src/services/proxies.js'
import {setup} from '../../services/helpers.js'
import {memoryLogger} from '../../../helpers/memory-logger.js'

// A proxy's presence against the real ProxyService on a memory backend (the auth API's routes
// stood in by calls to it), on a FakeClock: announced, kept alive, the others read, changes told.

function presenceFor(name: string, store: ProxyService, clock: FakeClock) {
  const info = (p: Awaited<ReturnType<ProxyService['upsertProxy']>>): ProxyInfo => ({...p, expires: p.expires.toISOString()})
  const self: ProxyAnnouncement = {name, hostname: name, addr: `${name}:3023`, publicAddr: 'proxies.example:443', version: '1.0.0'}
  return new ProxyPresence({
    api: {
      upsertProxy: async (r) => info(await store.upsertProxy(r)),
      keepAliveProxy: async (n) => info(await store.keepAlive(n)),
      deleteProxy: (n) => store.deleteProxy(n),
      listProxies: async () => (await store.listProxies()).map(info),
    },
    self: () => self,
    log: memoryLogger(),
    clock,
  })
}

describe('proxy presence', () => {
  test('each proxy announces itself and learns the others; a stopped one is gone from the set at the next read', async () => {
    const {backend} = setup()
    const clock = new FakeClock()
    const store = new ProxyService(backend, {clock})
    const a = presenceFor('proxy-a', store, clock)
    let changes = 0
    a.onChange(() => changes++)
    assert.deepEqual(a.current(), [], 'nothing before it starts')
    await a.start()
    assert.deepEqual(a.current().map((p) => p.id), ['proxy-a'])
    assert.equal(changes, 1)
    const b = presenceFor('proxy-b', store, clock)
    await b.start()
    assert.deepEqual(b.current().map((p) => p.id), ['proxy-b', 'proxy-a'])
    await clock.advanceAsync(PROXY_LIST_POLL_MS)
    assert.deepEqual(a.current().map((p) => p.id), ['proxy-a', 'proxy-b'])
    assert.equal(changes, 2)
    await clock.advanceAsync(PROXY_LIST_POLL_MS)
    assert.equal(changes, 2, 'no change, no news')
    await b.stop()
    await assert.rejects(store.keepAlive('proxy-b'), NotFoundError)
    await clock.advanceAsync(PROXY_LIST_POLL_MS)
    assert.deepEqual(a.current().map((p) => p.id), ['proxy-a'])
    assert.equal(changes, 3)
    await a.stop()
  })

  test("a proxy's heartbeat keeps its record alive; a crashed proxy's record expires", async () => {
    const {backend} = setup()
    const clock = new FakeClock()
    const store = new ProxyService(backend, {clock})
    const a = presenceFor('proxy-a', store, clock)
    await a.start()
    // A proxy that announced itself once and crashed: nothing keeps its record alive, nothing removes it.
    await store.upsertProxy({name: 'proxy-c', hostname: 'proxy-c', addr: 'proxy-c:3023', publicAddr: 'proxies.example:443', version: '1.0.0'})
    await clock.advanceAsync(PROXY_LIST_POLL_MS)
    assert.deepEqual(a.current().map((p) => p.id), ['proxy-a', 'proxy-c'])
    for (let minute = 0; minute < 11; minute++) await clock.advanceAsync(60_000)
    assert.deepEqual((await store.listProxies()).map((p) => p.name), ['proxy-a'])
    assert.deepEqual(a.current().map((p) => p.id), ['proxy-a'])
    await a.stop()
  })
})
