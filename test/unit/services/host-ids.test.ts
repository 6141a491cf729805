import assert from 'node:assert/strict'
import {describe, test} from 'node:test'
import {AccessDeniedError, BadParameterError} from '../../../src/lib/errors.js'
import {assertJoinerHostId, HostIdService} from '../../../src/services/host-ids.js'
import {generateKeyPair} from '../../../src/sshca/index.js'
import {setup} from './helpers.js'

const ID = '0f0f0f0f-1111-4222-8333-444455556666'

function service() {
  const {backend, clock} = setup()
  return {backend, hostIds: new HostIdService(backend, {clock})}
}

describe('host ids', () => {
  test('a new id is claimed with a not-exists condition; a second claim under another key is refused', async () => {
    const {backend, hostIds} = service()
    const [first, second] = [generateKeyPair(), generateKeyPair()]
    const claim = await hostIds.claimForJoin(ID, 'Node', first.publicKey)
    assert.equal(claim.newHost, true)
    await backend.atomicWrite(claim.operations, claim.conditions)
    await assert.rejects(hostIds.claimForJoin(ID, 'Node', second.publicKey), (err) => err instanceof AccessDeniedError && err.message === `host id ${ID} is already registered in the cluster` && /tctl rm node\//.test(err.hint ?? ''))
    // Another role does not free it either.
    await assert.rejects(hostIds.claimForJoin(ID, 'Proxy', second.publicKey), AccessDeniedError)
  })

  test('the same key may add its other role (node and proxy in one process) without counting as a new host', async () => {
    const {backend, hostIds} = service()
    const key = generateKeyPair()
    const first = await hostIds.claimForJoin(ID, 'Proxy', key.publicKey)
    await backend.atomicWrite(first.operations, first.conditions)
    const second = await hostIds.claimForJoin(ID, 'Node', key.publicKey)
    assert.equal(second.newHost, false)
    await backend.atomicWrite(second.operations, second.conditions)
    assert.deepEqual(Object.keys((await hostIds.get(ID))!.roles).sort(), ['Node', 'Proxy'])
  })

  test('two racing claims of one new id: one write wins', async () => {
    const {backend, hostIds} = service()
    const claims = await Promise.all([generateKeyPair(), generateKeyPair()].map((k) => hostIds.claimForJoin(ID, 'Node', k.publicKey)))
    const results = await Promise.allSettled(claims.map((c) => backend.atomicWrite(c.operations, c.conditions)))
    assert.deepEqual(results.map((r) => r.status).sort(), ['fulfilled', 'rejected'])
  })

  test('presence binding: the bound key only; an unbound id is bound to its first user', async () => {
    const {hostIds} = service()
    const [owner, other] = [generateKeyPair(), generateKeyPair()]
    assert.equal(await hostIds.isBoundTo(ID, 'Node', owner.publicKey), true)
    assert.equal(await hostIds.isBoundTo(ID, 'Node', owner.publicKey), true)
    assert.equal(await hostIds.isBoundTo(ID, 'Node', other.publicKey), false)
    await hostIds.bind(ID, 'Node', other.publicKey)
    assert.equal(await hostIds.isBoundTo(ID, 'Node', owner.publicKey), false)
  })

  test('a key that was bound is refused at once after tctl rm frees the id and another key takes it', async () => {
    const {hostIds} = service()
    const [before, after] = [generateKeyPair(), generateKeyPair()]
    await hostIds.bind(ID, 'Node', before.publicKey)
    assert.equal(await hostIds.isBoundTo(ID, 'Node', before.publicKey), true)
    assert.equal(await hostIds.delete(ID), true)
    await hostIds.bind(ID, 'Node', after.publicKey)
    assert.equal(await hostIds.isBoundTo(ID, 'Node', before.publicKey), false)
    assert.equal(await hostIds.isBoundTo(ID, 'Node', after.publicKey), true)
  })

  test('delete frees the id for a new key', async () => {
    const {hostIds} = service()
    await hostIds.bind(ID, 'Node', generateKeyPair().publicKey)
    assert.equal(await hostIds.delete(ID), true)
    assert.equal(await hostIds.delete(ID), false)
    assert.equal((await hostIds.claimForJoin(ID, 'Node', generateKeyPair().publicKey)).newHost, true)
  })

  test('a joiner host id is a lowercase UUID', () => {
    assertJoinerHostId(ID)
    for (const bad of ['node-1', 'admin.' + ID, ID.toUpperCase(), `${ID}/x`, '']) assert.throws(() => assertJoinerHostId(bad), BadParameterError, bad)
  })
})
