import {describe, test} from 'node:test'
import assert from 'node:assert/strict'
import {AccessDeniedError, BadParameterError, NotFoundError} from '../../../src/lib/errors.js'
import {generateTotpCode} from '../../../src/services/totp.js'
import {UserTokenService} from '../../../src/services/user-tokens.js'
import {userKeys, UserService} from '../../../src/services/users.js'
import {HOUR, MINUTE, setup, TEST_BCRYPT_COST, wrongCode} from './helpers.js'

async function fixture() {
  const {clock, backend} = setup()
  const users = new UserService(backend, {clock, bcryptCost: TEST_BCRYPT_COST, secondFactor: 'otp'})
  const tokens = new UserTokenService(backend, {clock, bcryptCost: TEST_BCRYPT_COST, issuer: 'example.com'})
  await users.create({name: 'alice', roles: ['access'], traits: {logins: ['alice']}})
  const code = (secret: string) => generateTotpCode(secret, clock.now().getTime())
  return {clock, backend, users, tokens, code}
}

const GONE = {name: 'NotFoundError', message: 'this link is invalid, has expired or was already used'}

describe('invite tokens', () => {
  test('an invite: 32 hex characters, 1h, with a TOTP secret to enroll', async () => {
    const {tokens, clock} = await fixture()
    const invite = await tokens.createInvite('alice')
    assert.match(invite.token, /^[0-9a-f]{32}$/)
    assert.equal(invite.kind, 'invite')
    assert.equal(invite.user, 'alice')
    assert.equal(invite.expires.getTime() - clock.now().getTime(), HOUR)
    assert.match(invite.totp.secret, /^[A-Z2-7]{32}$/)
    assert.match(invite.totp.otpauthUrl, /^otpauth:\/\/totp\/example\.com:alice\?issuer=example\.com&secret=[A-Z2-7]+&algorithm=SHA1&digits=6&period=30$/)
    const shown = await tokens.getUserToken(invite.token)
    assert.deepEqual(shown.totp, invite.totp)
    assert.equal(shown.token, undefined)
  })

  test('the token itself is not stored, only its hash', async () => {
    const {tokens, backend} = await fixture()
    const invite = await tokens.createInvite('alice')
    const dump = JSON.stringify(await backend.getRange('/'))
    assert.ok(!dump.includes(invite.token))
  })

  test('redeem sets the password and enrolls TOTP in one step, and uses up the token', async () => {
    const {tokens, users, code} = await fixture()
    const invite = await tokens.createInvite('alice')
    const enrollCode = code(invite.totp.secret)
    assert.deepEqual(await tokens.redeem({token: invite.token, password: 'new-password', otpCode: enrollCode, secondFactor: 'otp'}), {name: 'alice'})
    assert.equal(await users.hasPassword('alice'), true)
    assert.equal(await users.hasTotpDevice('alice'), true)
    await assert.rejects(tokens.getUserToken(invite.token), GONE)
    await assert.rejects(tokens.redeem({token: invite.token, password: 'other-password', otpCode: enrollCode, secondFactor: 'otp'}), GONE)
    // The code used to enroll can't be replayed to log in.
    await assert.rejects(users.checkPassword('alice', 'new-password', enrollCode), AccessDeniedError)
  })

  test('after redeeming, the user logs in with the password and a later code', async () => {
    const {tokens, users, code, clock} = await fixture()
    const invite = await tokens.createInvite('alice')
    await tokens.redeem({token: invite.token, password: 'new-password', otpCode: code(invite.totp.secret), secondFactor: 'otp'})
    clock.advance(30_000)
    assert.equal((await users.checkPassword('alice', 'new-password', code(invite.totp.secret))).name, 'alice')
  })

  test('a bad code changes nothing: the token stays usable and no password is set', async () => {
    const {tokens, users, code, backend, clock} = await fixture()
    const invite = await tokens.createInvite('alice')
    const wrong = wrongCode(invite.totp.secret, clock.now().getTime())
    await assert.rejects(tokens.redeem({token: invite.token, password: 'new-password', otpCode: wrong, secondFactor: 'otp'}), {
      name: 'AccessDeniedError',
      message: 'invalid one-time password code',
    })
    await assert.rejects(tokens.redeem({token: invite.token, password: 'new-password', secondFactor: 'otp'}), BadParameterError)
    await assert.rejects(tokens.redeem({token: invite.token, password: 'short', otpCode: code(invite.totp.secret), secondFactor: 'otp'}), {
      message: 'password must be between 6 and 128 characters',
    })
    assert.equal(await users.hasPassword('alice'), false)
    assert.equal(await users.hasTotpDevice('alice'), false)
    await assert.rejects(backend.get(userKeys.password('alice')), NotFoundError)
    await tokens.getUserToken(invite.token)
    await tokens.redeem({token: invite.token, password: 'new-password', otpCode: code(invite.totp.secret), secondFactor: 'otp'})
  })

  test('second factor off: password only, nothing enrolled', async () => {
    const {clock, backend} = setup()
    const users = new UserService(backend, {clock, bcryptCost: TEST_BCRYPT_COST, secondFactor: 'off'})
    const tokens = new UserTokenService(backend, {clock, bcryptCost: TEST_BCRYPT_COST})
    await users.create({name: 'bob', roles: ['access']})
    const invite = await tokens.createInvite('bob')
    await tokens.redeem({token: invite.token, password: 'bob-password', secondFactor: 'off'})
    assert.equal(await users.hasTotpDevice('bob'), false)
    await users.checkPassword('bob', 'bob-password')
  })

  test('expired after 1h', async () => {
    const {tokens, clock, code} = await fixture()
    const invite = await tokens.createInvite('alice')
    clock.advance(HOUR - 1)
    await tokens.getUserToken(invite.token)
    clock.advance(1)
    await assert.rejects(tokens.getUserToken(invite.token), GONE)
    await assert.rejects(tokens.redeem({token: invite.token, password: 'new-password', otpCode: code(invite.totp.secret), secondFactor: 'otp'}), GONE)
  })

  test('unknown and malformed tokens are refused alike', async () => {
    const {tokens} = await fixture()
    await assert.rejects(tokens.getUserToken('0'.repeat(32)), GONE)
    await assert.rejects(tokens.getUserToken('../../users/alice'), GONE)
    await assert.rejects(tokens.redeem({token: 'nope', password: 'new-password', secondFactor: 'off'}), GONE)
  })

  test('invites need an existing user', async () => {
    const {tokens} = await fixture()
    await assert.rejects(tokens.createInvite('ghost'), {name: 'NotFoundError', message: 'user "ghost" is not found'})
  })

  test('a redeemed token fails if the user was deleted meanwhile', async () => {
    const {tokens, users} = await fixture()
    const invite = await tokens.createInvite('alice')
    await users.delete('alice')
    await assert.rejects(tokens.redeem({token: invite.token, password: 'new-password', secondFactor: 'off'}), NotFoundError)
    assert.equal(await users.hasPassword('alice'), false)
  })

  test('a link made for a deleted user does not work for a new user of that name', async () => {
    const {tokens, users, clock} = await fixture()
    const invite = await tokens.createInvite('alice')
    await users.delete('alice')
    clock.advance(1000)
    await users.create({name: 'alice', roles: ['editor']})
    await assert.rejects(tokens.redeem({token: invite.token, password: 'new-password', secondFactor: 'off'}), GONE)
    assert.equal(await users.hasPassword('alice'), false)
  })

  test('a new token replaces the older ones for the same user', async () => {
    const {tokens, users} = await fixture()
    await users.create({name: 'bob', roles: ['access']})
    const first = await tokens.createInvite('alice')
    const bobs = await tokens.createInvite('bob')
    const second = await tokens.createInvite('alice')
    await assert.rejects(tokens.getUserToken(first.token), GONE)
    await tokens.getUserToken(second.token)
    await tokens.getUserToken(bobs.token)
    assert.deepEqual(
      (await tokens.list('alice')).map((t) => t.kind),
      ['invite'],
    )
    assert.ok(!JSON.stringify(await tokens.list()).includes(second.totp.secret), 'list shows no secrets')
  })

  test('concurrent redemptions of one token: exactly one wins', async () => {
    const {tokens, code} = await fixture()
    const invite = await tokens.createInvite('alice')
    const c = code(invite.totp.secret)
    const results = await Promise.allSettled(['password-a', 'password-b', 'password-c'].map((password) => tokens.redeem({token: invite.token, password, otpCode: c, secondFactor: 'otp'})))
    assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1)
  })

  test('delete cancels a token', async () => {
    const {tokens} = await fixture()
    const invite = await tokens.createInvite('alice')
    await tokens.delete(invite.token)
    await assert.rejects(tokens.getUserToken(invite.token), GONE)
  })
})

describe('reset tokens', () => {
  test('8h; the old password and device stop working at once; redeeming sets new ones and unlocks', async () => {
    const {tokens, users, code, clock} = await fixture()
    const invite = await tokens.createInvite('alice')
    await tokens.redeem({token: invite.token, password: 'old-password', otpCode: code(invite.totp.secret), secondFactor: 'otp'})
    for (let i = 0; i < 5; i++) await assert.rejects(users.checkPassword('alice', 'wrong-password', '123456'))
    assert.ok((await users.get('alice')).locked)

    const reset = await tokens.createReset('alice')
    assert.equal(reset.kind, 'reset')
    assert.equal(reset.expires.getTime() - clock.now().getTime(), 8 * HOUR)
    assert.notEqual(reset.totp.secret, invite.totp.secret)
    assert.equal(await users.hasPassword('alice'), false)
    assert.equal(await users.hasTotpDevice('alice'), false)

    clock.advance(MINUTE)
    await tokens.redeem({token: reset.token, password: 'new-password', otpCode: code(reset.totp.secret), secondFactor: 'otp'})
    assert.equal((await users.get('alice')).locked, undefined)
    clock.advance(MINUTE)
    await users.checkPassword('alice', 'new-password', code(reset.totp.secret))
  })

  test('expires after 8h', async () => {
    const {tokens, clock} = await fixture()
    const reset = await tokens.createReset('alice')
    clock.advance(8 * HOUR)
    await assert.rejects(tokens.getUserToken(reset.token), GONE)
  })
})
