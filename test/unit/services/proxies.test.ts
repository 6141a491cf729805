import {describe, test} from 'node:test'
import assert from 'node:assert/strict'
import {BadParameterError, NotFoundError} from '../../../src/lib/errors.js'
import {ProxyService, type ProxyRecord} from '../../../src/services/proxies.js'
import {MINUTE, setup} from './helpers.js'

const proxy = (name: string, hostname: string): ProxyRecord => ({name, hostname, addr: `${hostname}:3023`, publicAddr: 'proxy.example.com:443', version: '1.0.0'})

describe('ProxyService', () => {
  test('a proxy record lives 10 minutes unless kept alive, and is listed by hostname while it lives', async () => {
    const {clock, backend} = setup()
    const proxies = new ProxyService(backend, {clock})
    await proxies.upsertProxy(proxy('uuid-2', 'proxy-b'))
    await proxies.upsertProxy(proxy('uuid-1', 'proxy-a'))
    assert.deepEqual((await proxies.listProxies()).map((p) => p.hostname), ['proxy-a', 'proxy-b'])
    clock.advance(9 * MINUTE)
    const kept = await proxies.keepAlive('uuid-1')
    assert.equal(kept.expires.getTime() - clock.now().getTime(), 10 * MINUTE)
    clock.advance(2 * MINUTE)
    assert.deepEqual((await proxies.listProxies()).map((p) => p.name), ['uuid-1'], 'the one not kept alive expired')
    await assert.rejects(proxies.keepAlive('uuid-2'), NotFoundError)
    await proxies.deleteProxy('uuid-1')
    assert.deepEqual(await proxies.listProxies(), [])
    await assert.rejects(proxies.deleteProxy('uuid-1'), NotFoundError)
  })

  test('a record with a bad field is refused, naming it', async () => {
    const {clock, backend} = setup()
    const proxies = new ProxyService(backend, {clock})
    await assert.rejects(proxies.upsertProxy({...proxy('uuid-1', 'proxy-a'), publicAddr: 'x\u001b[31m'}), (err: Error) => err instanceof BadParameterError && /publicAddr must be printable/.test(err.message))
    await assert.rejects(proxies.upsertProxy(proxy('a/b', 'proxy-a')), BadParameterError)
  })
})
