import {describe, test} from 'node:test'
import assert from 'node:assert/strict'
import {BadParameterError, CompareFailedError, NotFoundError} from '../../../src/lib/errors.js'
import {CAService, withoutSecrets, type CertAuthority} from '../../../src/services/cas.js'
import {setup} from './helpers.js'

let n = 0
function pair() {
  n++
  return {publicKey: `ssh-ed25519 AAAAkey${n}`, privateKey: `-----BEGIN OPENSSH PRIVATE KEY-----\nkey${n}\n-----END OPENSSH PRIVATE KEY-----\n`}
}

function ca(type: 'user' | 'host', clusterName = 'example.com'): CertAuthority {
  return {type, clusterName, activeKeys: [pair()], additionalTrustedKeys: []}
}

describe('CAService', () => {
  test('create and get; create refuses to overwrite', async () => {
    const {backend} = setup()
    const cas = new CAService(backend)
    const user = await cas.create(ca('user'))
    await cas.create(ca('host'))
    assert.deepEqual(await cas.get('user', 'example.com'), user)
    await assert.rejects(cas.create(ca('user')), {name: 'AlreadyExistsError', message: 'user CA for cluster "example.com" already exists'})
    assert.deepEqual(await cas.get('user', 'example.com'), user)
    await assert.rejects(cas.get('user', 'other.com'), {name: 'NotFoundError', message: 'user CA for cluster "other.com" is not found'})
  })

  test('public views carry no private key', async () => {
    const {backend} = setup()
    const cas = new CAService(backend)
    await cas.create(ca('host'))
    const views = [await cas.get('host', 'example.com', {withSecrets: false}), ...(await cas.list(undefined, {withSecrets: false}))]
    assert.ok(!JSON.stringify(views).includes('PRIVATE KEY'))
    assert.ok(!JSON.stringify(withoutSecrets(await cas.get('host', 'example.com'))).includes('PRIVATE'))
  })

  test('trustedPublicKeys: active and additionally trusted keys', async () => {
    const {backend} = setup()
    const cas = new CAService(backend)
    const user = await cas.create(ca('user'))
    await cas.create(ca('host'))
    const old = pair()
    await cas.compareAndSwap(user, {...user, additionalTrustedKeys: [{publicKey: old.publicKey}]})
    assert.deepEqual(await cas.trustedPublicKeys('user', 'example.com'), [user.activeKeys[0]!.publicKey, old.publicKey])
    await cas.create(ca('user', 'leaf.example.com'))
    assert.equal((await cas.trustedPublicKeys('user')).length, 3)
    assert.equal((await cas.trustedPublicKeys('host')).length, 1)
  })

  test('getOrCreate generates once, even when racing', async () => {
    const {backend} = setup()
    const cas = new CAService(backend)
    let generated = 0
    const gen = async () => {
      generated++
      await new Promise((r) => setImmediate(r))
      return pair()
    }
    const [a, b] = await Promise.all([cas.getOrCreate('user', 'example.com', gen), cas.getOrCreate('user', 'example.com', gen)])
    assert.deepEqual(a, b)
    const again = await cas.getOrCreate('user', 'example.com', () => {
      throw new Error('must not generate')
    })
    assert.deepEqual(again, a)
    assert.ok(generated >= 1)
  })

  test('compareAndSwap refuses a stale copy', async () => {
    const {backend} = setup()
    const cas = new CAService(backend)
    const v1 = await cas.create(ca('host'))
    const v2 = await cas.compareAndSwap(v1, {...v1, activeKeys: [pair()], additionalTrustedKeys: v1.activeKeys, rotation: {phase: 'init', mode: 'manual'}})
    assert.equal((await cas.get('host', 'example.com')).rotation?.phase, 'init')
    await assert.rejects(cas.compareAndSwap(v1, {...v1, activeKeys: [pair()]}), CompareFailedError)
    await assert.rejects(cas.compareAndSwap(v2, {...v2, clusterName: 'other.com'}), BadParameterError)
  })

  test('validation', async () => {
    const {backend} = setup()
    const cas = new CAService(backend)
    await assert.rejects(cas.create({...ca('user'), activeKeys: []}), /at least one active key/)
    await assert.rejects(cas.create({...ca('user'), activeKeys: [{publicKey: 'ssh-ed25519 AAAA'}]}), /activeKeys\[0\].privateKey is missing/)
    await assert.rejects(cas.create({...ca('user'), type: 'db' as never}), /unknown CA type "db"/)
    await assert.rejects(cas.create({...ca('user'), rotation: {phase: 'spinning' as never}}), /unknown rotation phase/)
    await assert.rejects(cas.get('user', 'a/b'), BadParameterError)
  })

  test('list and delete', async () => {
    const {backend} = setup()
    const cas = new CAService(backend)
    await cas.create(ca('user'))
    await cas.create(ca('host'))
    assert.deepEqual(
      (await cas.list()).map((c) => c.type),
      ['host', 'user'],
    )
    await cas.delete('host', 'example.com')
    assert.deepEqual(
      (await cas.list('host')).map((c) => c.type),
      [],
    )
    await assert.rejects(cas.delete('host', 'example.com'), NotFoundError)
  })
})
