import {describe, test} from 'node:test'
import assert from 'node:assert/strict'
import {AccessDeniedError, BadParameterError, NotFoundError} from '../../../src/lib/errors.js'
import {bcryptPasswordChecker} from '../../../src/services/password.js'
import {RoleService} from '../../../src/services/roles.js'
import {generateTotpCode, newTotpSecret} from '../../../src/services/totp.js'
import {toPublic, userFromResource, userKeys, userToResource, UserService, type UserServiceOptions} from '../../../src/services/users.js'
import {MINUTE, setup, TEST_BCRYPT_COST, wrongCode} from './helpers.js'

function service(options: UserServiceOptions = {}) {
  const {clock, backend} = setup()
  const users = new UserService(backend, {clock, bcryptCost: TEST_BCRYPT_COST, secondFactor: 'off', ...options})
  return {clock, backend, users}
}

const LOCKED = /user "alice" is locked until 2026-01-01T00:20:00Z after too many failed login attempts$/

describe('UserService records', () => {
  test('create, get, list, update, delete', async () => {
    const {users, clock} = service()
    const alice = await users.create({name: 'alice', roles: ['access'], traits: {logins: ['alice', 'root']}})
    assert.deepEqual(alice, {name: 'alice', roles: ['access'], traits: {logins: ['alice', 'root']}, createdAt: clock.now().toISOString()})
    assert.deepEqual(await users.get('alice'), alice)
    await users.create({name: 'bob', roles: ['editor']})
    assert.deepEqual(
      (await users.list()).map((u) => u.name),
      ['alice', 'bob'],
    )
    const updated = await users.update('alice', {roles: ['access', 'editor']})
    assert.deepEqual(updated.roles, ['access', 'editor'])
    assert.deepEqual(updated.traits, {logins: ['alice', 'root']})
    await users.delete('alice')
    await assert.rejects(users.get('alice'), {name: 'NotFoundError', message: 'user "alice" is not found'})
    await assert.rejects(users.delete('alice'), NotFoundError)
    await assert.rejects(users.update('alice', {roles: ['x']}), NotFoundError)
    assert.deepEqual(
      (await users.list()).map((u) => u.name),
      ['bob'],
    )
  })

  test('delete removes the password too, and does not touch a user whose name is a prefix', async () => {
    const {users, backend} = service()
    await users.create({name: 'al', roles: ['access'], password: 'secret-1'})
    await users.create({name: 'alice', roles: ['access'], password: 'secret-2'})
    await users.delete('al')
    assert.deepEqual(
      (await backend.getRange('/users/')).map((i) => i.key),
      ['/users/alice/params', '/users/alice/pwd'],
    )
  })

  test('create refuses a taken name and bad input', async () => {
    const {users} = service()
    await users.create({name: 'alice', roles: ['access']})
    await assert.rejects(users.create({name: 'alice', roles: ['access']}), {name: 'AlreadyExistsError', message: 'user "alice" already exists'})
    await assert.rejects(users.create({name: 'a/b', roles: ['access']}), BadParameterError)
    await assert.rejects(users.create({name: 'bob', roles: []}), /at least one role is required/)
    await assert.rejects(users.create({name: 'bob', roles: ['access'], traits: {logins: [1 as unknown as string]}}), /traits.logins: expected a list of strings/)
  })

  test('roles must exist when a checker is given', async () => {
    const {backend, clock} = setup()
    const roles = new RoleService(backend)
    const users = new UserService(backend, {clock, bcryptCost: TEST_BCRYPT_COST, roleExists: async (n) => roles.get(n).then(() => true, () => false)})
    await assert.rejects(users.create({name: 'a', roles: ['access', 'nope']}), {message: 'user "a": role "nope" is not found'})
    await users.create({name: 'a', roles: ['access']})
  })

  test('upsert creates or replaces roles and traits, keeping the password', async () => {
    const {users} = service()
    await users.upsert({name: 'alice', roles: ['access']})
    await users.setPassword('alice', 'password1')
    const u = await users.upsert({name: 'alice', roles: ['editor'], traits: {logins: ['x']}})
    assert.deepEqual([u.roles, u.traits], [['editor'], {logins: ['x']}])
    await users.checkPassword('alice', 'password1')
  })

  test('secrets never appear in the public views', async () => {
    const {users} = service()
    const secret = newTotpSecret()
    await users.create({name: 'alice', roles: ['access'], password: 'hunter2-secret'})
    await users.setTotpDevice('alice', secret)
    const views = JSON.stringify([await users.get('alice'), await users.list(), userToResource(await users.get('alice'))])
    assert.ok(!views.includes('hunter2'))
    assert.ok(!views.includes('$2'), 'no bcrypt hash')
    assert.ok(!views.includes(secret))
    const leaky = {...(await users.get('alice')), password: 'x', hash: 'y'} as never
    assert.deepEqual(Object.keys(toPublic(leaky)).sort(), ['createdAt', 'name', 'roles', 'traits'])
    const err = await users.checkPassword('alice', 'hunter2-wrong').catch((e: Error) => e)
    assert.ok(err instanceof AccessDeniedError)
    assert.ok(!err.message.includes('hunter2') && !String(err.cause ?? '').includes('$2'))
  })

  test('the user resource round-trips', async () => {
    const {users} = service()
    const u = await users.create({name: 'alice', roles: ['access'], traits: {logins: ['root']}})
    const r = userToResource(u)
    assert.equal(r.kind, 'user')
    assert.deepEqual(userFromResource(r), {name: 'alice', roles: ['access'], traits: {logins: ['root']}})
    assert.throws(() => userFromResource({...r, spec: {...r.spec, rolez: []}}), /spec.rolez: unknown field/)
  })
})

describe('passwords', () => {
  test('length must be 6..128 characters', async () => {
    const {users} = service()
    await users.create({name: 'alice', roles: ['access']})
    for (const bad of ['', '12345', 'x'.repeat(129)]) {
      await assert.rejects(users.setPassword('alice', bad), {name: 'BadParameterError', message: 'password must be between 6 and 128 characters'})
    }
    await users.setPassword('alice', '123456')
    await users.setPassword('alice', 'é'.repeat(128))
    await assert.rejects(users.create({name: 'bob', roles: ['access'], password: '123'}), /between 6 and 128/)
    await assert.rejects(users.get('bob'), NotFoundError)
  })

  test('stored as a bcrypt hash with the configured cost', async () => {
    const {users, backend} = service()
    await users.create({name: 'alice', roles: ['access'], password: 'correct horse'})
    const hash = (await backend.get(userKeys.password('alice'))).value
    assert.match(hash, /^\$2[aby]\$04\$/)
    assert.ok(!hash.includes('correct'))
  })

  test('the whole password counts, past bcrypt\'s 72 bytes', async () => {
    const {users} = service()
    const long = 'a'.repeat(80)
    await users.create({name: 'alice', roles: ['access'], password: long + 'X'})
    await assert.rejects(users.checkPassword('alice', long + 'Y'), AccessDeniedError)
    await users.checkPassword('alice', long + 'X')
  })

  test('checkPassword: right, wrong, unknown user, no password set', async () => {
    const {users} = service()
    await users.create({name: 'alice', roles: ['access'], password: 'right-password'})
    await users.create({name: 'bob', roles: ['access']})
    assert.equal((await users.checkPassword('alice', 'right-password')).name, 'alice')
    const generic = {name: 'AccessDeniedError', message: 'invalid username, password or second factor'}
    await assert.rejects(users.checkPassword('alice', 'wrong-password'), generic)
    await assert.rejects(users.checkPassword('nobody', 'right-password'), generic)
    await assert.rejects(users.checkPassword('bob', 'anything'), generic)
    assert.equal(await users.hasPassword('bob'), false)
    assert.equal(await users.hasPassword('alice'), true)
  })
})

describe('lockout', () => {
  test('5 failures lock for 20 minutes; the 6th is refused even with the right password', async () => {
    const {users, clock} = service()
    await users.create({name: 'alice', roles: ['access'], password: 'right-password'})
    for (let i = 0; i < 5; i++) await assert.rejects(users.checkPassword('alice', 'wrong'), {message: 'invalid username, password or second factor'})
    await assert.rejects(users.checkPassword('alice', 'right-password'), (err: Error) => err instanceof AccessDeniedError && LOCKED.test(err.message))
    assert.deepEqual((await users.get('alice')).locked, {until: '2026-01-01T00:20:00.000Z', reason: 'too many failed login attempts'})
    assert.ok((await users.list())[0]!.locked)

    clock.advance(20 * MINUTE - 1)
    await assert.rejects(users.checkPassword('alice', 'right-password'), LOCKED)
    clock.advance(1)
    assert.equal((await users.get('alice')).locked, undefined)
    assert.equal((await users.checkPassword('alice', 'right-password')).name, 'alice')
  })

  test('a success resets the count', async () => {
    const {users} = service()
    await users.create({name: 'alice', roles: ['access'], password: 'right-password'})
    for (let i = 0; i < 4; i++) await assert.rejects(users.checkPassword('alice', 'wrong'))
    await users.checkPassword('alice', 'right-password')
    for (let i = 0; i < 4; i++) await assert.rejects(users.checkPassword('alice', 'wrong'))
    await users.checkPassword('alice', 'right-password')
  })

  test('the 5th attempt may still succeed', async () => {
    const {users} = service()
    await users.create({name: 'alice', roles: ['access'], password: 'right-password'})
    for (let i = 0; i < 4; i++) await assert.rejects(users.checkPassword('alice', 'wrong'))
    await users.checkPassword('alice', 'right-password')
    assert.equal((await users.get('alice')).locked, undefined)
  })

  test('after a lock expires, a fresh count starts', async () => {
    const {users, clock} = service()
    await users.create({name: 'alice', roles: ['access'], password: 'right-password'})
    for (let i = 0; i < 5; i++) await assert.rejects(users.checkPassword('alice', 'wrong'))
    clock.advance(20 * MINUTE)
    for (let i = 0; i < 4; i++) await assert.rejects(users.checkPassword('alice', 'wrong'), {message: 'invalid username, password or second factor'})
    await users.checkPassword('alice', 'right-password')
  })

  test('concurrent guesses cannot get past the limit', async () => {
    const {users} = service()
    await users.create({name: 'alice', roles: ['access'], password: 'right-password'})
    const results = await Promise.allSettled(Array.from({length: 20}, (_, i) => users.checkPassword('alice', `wrong-${i}`)))
    const messages = results.map((r) => (r.status === 'rejected' ? (r.reason as Error).message : 'passed'))
    assert.equal(messages.filter((m) => m === 'invalid username, password or second factor').length, 5, 'only 5 passwords are checked at all')
    assert.equal(messages.filter((m) => LOCKED.test(m)).length, 15)
    await assert.rejects(users.checkPassword('alice', 'right-password'), LOCKED)
  })

  test('unknown names lock exactly like users: same answers, and no bcrypt once locked', async () => {
    let bcryptRuns = 0
    const counting = {
      verify: async (password: string, hash: string) => (bcryptRuns++, bcryptPasswordChecker.verify(password, hash)),
      burn: async (password: string, cost: number) => (bcryptRuns++, bcryptPasswordChecker.burn(password, cost)),
    }
    const {users} = service({passwordChecker: counting})
    await users.create({name: 'alice', roles: ['access'], password: 'right-password'})
    const answers = async (name: string) => {
      const seen: string[] = []
      for (let i = 0; i < 7; i++) seen.push(await users.checkPassword(name, 'wrong').then(() => 'passed', (err: Error) => `${err.name}: ${err.message.replace(name, 'NAME')}`))
      return seen
    }
    const before = bcryptRuns
    const known = await answers('alice')
    assert.equal(bcryptRuns - before, 5, 'the two locked attempts run no bcrypt')
    const unknown = await answers('mallory')
    assert.equal(bcryptRuns - before, 10, 'nor for an unknown name')
    assert.deepEqual(unknown, known)
    assert.match(unknown[6]!, /^AccessDeniedError: user "NAME" is locked until 2026-01-01T00:20:00Z after too many failed login attempts$/)
  })

  test('the count and the lock live in the backend (shared by auth servers)', async () => {
    const {users, backend, clock} = service()
    await users.create({name: 'alice', roles: ['access'], password: 'right-password'})
    const other = new UserService(backend, {clock, bcryptCost: TEST_BCRYPT_COST, secondFactor: 'off'})
    for (let i = 0; i < 3; i++) await assert.rejects(users.checkPassword('alice', 'wrong'))
    for (let i = 0; i < 2; i++) await assert.rejects(other.checkPassword('alice', 'wrong'))
    await assert.rejects(users.checkPassword('alice', 'right-password'), LOCKED)
  })

  test('unlock clears a lock', async () => {
    const {users} = service()
    await users.create({name: 'alice', roles: ['access'], password: 'right-password'})
    for (let i = 0; i < 5; i++) await assert.rejects(users.checkPassword('alice', 'wrong'))
    await users.unlock('alice')
    await users.checkPassword('alice', 'right-password')
  })
})

describe('second factor (TOTP)', () => {
  async function enrolled(secondFactor: UserServiceOptions['secondFactor'] = 'otp') {
    const s = service({secondFactor})
    // Fixed secret and fixed clock: every code below is known, no chance collisions between periods.
    const secret = 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP'
    await s.users.create({name: 'alice', roles: ['access'], password: 'right-password'})
    await s.users.setTotpDevice('alice', secret)
    const code = (offsetMs = 0) => generateTotpCode(secret, s.clock.now().getTime() + offsetMs)
    return {...s, secret, code}
  }

  test('otp: password and a current code', async () => {
    const {users, code, secret, clock} = await enrolled()
    await assert.rejects(users.checkPassword('alice', 'right-password'), AccessDeniedError)
    await assert.rejects(users.checkPassword('alice', 'right-password', wrongCode(secret, clock.now().getTime())), AccessDeniedError)
    assert.equal((await users.checkPassword('alice', 'right-password', code())).name, 'alice')
  })

  test('a code is accepted one period either side, not two', async () => {
    const {users, clock, secret} = await enrolled()
    const at = (ms: number) => generateTotpCode(secret, ms)
    const t0 = clock.now().getTime()
    clock.advance(60_000)
    await assert.rejects(users.checkPassword('alice', 'right-password', at(t0)), AccessDeniedError) // two periods old
    await users.checkPassword('alice', 'right-password', at(t0 + 30_000)) // one period old
    clock.advance(60_000)
    await users.checkPassword('alice', 'right-password', at(clock.now().getTime() + 30_000)) // one period ahead
  })

  test('a used code cannot be replayed, nor an older one', async () => {
    const {users, code, clock} = await enrolled()
    clock.advance(45_000)
    const current = code()
    const previous = code(-30_000)
    await users.checkPassword('alice', 'right-password', current)
    await assert.rejects(users.checkPassword('alice', 'right-password', current), {message: 'invalid username, password or second factor'})
    await assert.rejects(users.checkPassword('alice', 'right-password', previous), AccessDeniedError)
    clock.advance(30_000)
    await users.checkPassword('alice', 'right-password', code())
  })

  test('the same code used concurrently passes once', async () => {
    const {users, code} = await enrolled()
    const c = code()
    const results = await Promise.allSettled([1, 2, 3].map(() => users.checkPassword('alice', 'right-password', c)))
    assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1)
  })

  test('bad codes count towards the lockout', async () => {
    const {users, code, secret, clock} = await enrolled()
    for (let i = 0; i < 5; i++) await assert.rejects(users.checkPassword('alice', 'right-password', wrongCode(secret, clock.now().getTime())))
    await assert.rejects(users.checkPassword('alice', 'right-password', code()), LOCKED)
  })

  test('otp without an enrolled device: refused', async () => {
    const {users} = service({secondFactor: 'otp'})
    await users.create({name: 'bob', roles: ['access'], password: 'right-password'})
    await assert.rejects(users.checkPassword('bob', 'right-password', '123456'), AccessDeniedError)
  })

  test('optional: a code only when a device is enrolled; off: codes ignored', async () => {
    const opt = await enrolled('optional')
    await assert.rejects(opt.users.checkPassword('alice', 'right-password'), AccessDeniedError)
    await opt.users.checkPassword('alice', 'right-password', opt.code())
    await opt.users.create({name: 'bob', roles: ['access'], password: 'right-password'})
    await opt.users.checkPassword('bob', 'right-password')
    const off = await enrolled('off')
    await off.users.checkPassword('alice', 'right-password')
    assert.equal(await off.users.hasTotpDevice('alice'), true)
  })

  test('refuses an unknown second factor setting', () => {
    const {backend} = setup()
    assert.throws(() => new UserService(backend, {secondFactor: 'u2f' as never}), /unknown second factor "u2f"/)
  })

  test('a device needs an existing user', async () => {
    const {users} = service()
    await assert.rejects(users.setTotpDevice('ghost', newTotpSecret()), NotFoundError)
    await assert.rejects(users.setPassword('ghost', 'password'), NotFoundError)
  })
})
