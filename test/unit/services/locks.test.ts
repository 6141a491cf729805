import {describe, test} from 'node:test'
import assert from 'node:assert/strict'
import {AccessDeniedError, BadParameterError, NotFoundError} from '../../../src/lib/errors.js'
import {assertNotLocked, findLockInForce, lockFromResource, lockInForceMessage, LockService} from '../../../src/services/locks.js'
import {HOUR, MINUTE, setup} from './helpers.js'

function service() {
  const {clock, backend} = setup()
  return {clock, backend, locks: new LockService(backend, {clock})}
}

describe('LockService', () => {
  test('create names the lock by a UUID and keeps target, message, expiry and author', async () => {
    const {locks, clock} = service()
    const lock = await locks.create({target: {user: 'alice'}, message: 'call security', ttlMs: HOUR, createdBy: 'admin'})
    assert.match(lock.metadata.name, /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/)
    assert.equal(lock.kind, 'lock')
    assert.equal(lock.version, 'v2')
    assert.deepEqual(lock.spec.target, {user: 'alice'})
    assert.equal(lock.spec.message, 'call security')
    assert.equal(lock.spec.expires, new Date(clock.now().getTime() + HOUR).toISOString())
    assert.equal(lock.spec.created_by, 'admin')
    assert.deepEqual(await locks.get(lock.metadata.name), lock)
    assert.deepEqual(await locks.list(), [lock])
  })

  test('a lock with a TTL is gone once it expires; one without stays', async () => {
    const {locks, clock} = service()
    const brief = await locks.create({target: {role: 'contractor'}, ttlMs: 10 * MINUTE})
    const forever = await locks.create({target: {node: 'node-uuid'}})
    clock.advance(10 * MINUTE)
    assert.deepEqual((await locks.list()).map((l) => l.metadata.name), [forever.metadata.name])
    await assert.rejects(locks.get(brief.metadata.name), NotFoundError)
  })

  test('delete; deleting an unknown lock is NotFound', async () => {
    const {locks} = service()
    const lock = await locks.create({target: {user: 'alice'}})
    await locks.delete(lock.metadata.name)
    assert.deepEqual(await locks.list(), [])
    await assert.rejects(locks.delete(lock.metadata.name), NotFoundError)
  })

  test('upsert from a resource (tctl create); an already expired one is refused', async () => {
    const {locks, clock} = service()
    const lock = await locks.upsert({kind: 'lock', version: 'v2', metadata: {name: 'l1'}, spec: {target: {user: 'bob'}, message: 'm', expires: new Date(clock.now().getTime() + HOUR).toISOString()}})
    assert.deepEqual((await locks.list()).map((l) => l.metadata.name), ['l1'])
    assert.equal(lock.spec.message, 'm')
    await assert.rejects(locks.upsert({kind: 'lock', version: 'v2', metadata: {name: 'l2'}, spec: {target: {user: 'bob'}, expires: '2020-01-01T00:00:00Z'}}), /in the past/)
  })

  test('resources without a target, with unknown fields or a bad time are refused', () => {
    const base = {kind: 'lock', version: 'v2', metadata: {name: 'x'}}
    assert.throws(() => lockFromResource({...base, spec: {}}), BadParameterError)
    assert.throws(() => lockFromResource({...base, spec: {target: {}}}), /name a user, role or node/)
    assert.throws(() => lockFromResource({...base, spec: {target: {login: 'root'}}}), /spec\.target\.login: unknown field/)
    assert.throws(() => lockFromResource({...base, spec: {target: {user: 'a'}, colour: 'red'}}), /spec\.colour: unknown field/)
    assert.throws(() => lockFromResource({...base, spec: {target: {user: 'a'}, expires: 'soon'}}), /RFC 3339/)
    assert.throws(() => lockFromResource({...base, version: 'v1', spec: {target: {user: 'a'}}}), /expected v2/)
  })
})

describe('locks in force', () => {
  const now = new Date(Date.UTC(2026, 0, 1))
  const lock = (target: object, extra: object = {}) => lockFromResource({kind: 'lock', version: 'v2', metadata: {name: 'n'}, spec: {target, ...extra}})

  test('a lock matches its user, any holder of its role, its node; every field given must match', () => {
    assert.ok(findLockInForce([lock({user: 'alice'})], {user: 'alice', roles: ['access']}, now))
    assert.equal(findLockInForce([lock({user: 'alice'})], {user: 'bob', roles: ['access']}, now), undefined)
    assert.ok(findLockInForce([lock({role: 'editor'})], {user: 'bob', roles: ['access', 'editor']}, now))
    assert.ok(findLockInForce([lock({node: 'n1'})], {user: 'bob', node: 'n1'}, now))
    assert.equal(findLockInForce([lock({user: 'alice', node: 'n1'})], {user: 'alice', node: 'n2'}, now), undefined)
  })

  test('an expired lock is not in force', () => {
    assert.equal(findLockInForce([lock({user: 'alice'}, {expires: now.toISOString()})], {user: 'alice'}, now), undefined)
  })

  test("Teleport's message: lock targeting User:\"alice\" is in force: <message>", () => {
    assert.equal(lockInForceMessage(lock({user: 'alice'}, {message: 'call security'})), 'lock targeting User:"alice" is in force: call security')
    assert.equal(lockInForceMessage(lock({role: 'editor'})), 'lock targeting Role:"editor" is in force')
    assert.throws(() => assertNotLocked([lock({node: 'n1'})], {node: 'n1'}, now), (err: Error) => err instanceof AccessDeniedError && err.message === 'lock targeting Node:"n1" is in force')
  })
})
