import assert from 'node:assert/strict'
import {verify} from 'node:crypto'
import {describe, test} from 'node:test'
import {generateKeyPair, parsePublicKeyLine, publicKeyObjectFromBlob} from '../../../src/sshca/index.js'
import {ACTIVITY_WRITE_INTERVAL_MS, WEB_SESSION_GONE, WebSessionService} from '../../../src/services/web-sessions.js'
import {HOUR, MINUTE, setup} from './helpers.js'

// Web sessions in the backend: only hashes of the id and the bearer token are stored, a session
// ends at its certificate's expiry or after its idle timeout (on the clock), sign-out removes it,
// and a user keeps at most so many.


function service(options: {maxPerUser?: number; idleTimeoutMs?: number} = {}) {
  const {clock, backend} = setup()
  return {clock, backend, sessions: new WebSessionService(backend, {clock, idleTimeoutMs: 30 * MINUTE, ...options})}
}

/** A session for a fresh key; the service takes the key's line for its certificate (it only stores it and keys it by fingerprint). */
async function create(sessions: WebSessionService, clock: {now(): Date}, user = 'alice', ttlMs = 12 * HOUR) {
  const keys = generateKeyPair('web')
  const made = await sessions.create({user, userCreatedAt: '2025-01-01T00:00:00.000Z', expires: new Date(clock.now().getTime() + ttlMs), privateKey: keys.privateKey, certificate: keys.publicKey})
  return {...made, ...keys}
}

const refused = {name: 'AccessDeniedError', message: WEB_SESSION_GONE}

describe('WebSessionService', () => {
  test('a new session has a 32-byte hex id and a bearer token, and authenticates with both', async () => {
    const {clock, sessions} = service()
    const {id, bearerToken, session} = await create(sessions, clock)
    assert.match(id, /^[0-9a-f]{64}$/)
    assert.match(bearerToken, /^[0-9a-f]{64}$/)
    assert.equal(session.user, 'alice')
    assert.equal(session.idleTimeoutMs, 30 * MINUTE)
    assert.equal((await sessions.authenticate(id, bearerToken)).user, 'alice')
  })

  test('the backend holds neither the id nor the bearer token nor the private key', async () => {
    const {clock, backend, sessions} = service()
    const {id, bearerToken, privateKey} = await create(sessions, clock)
    const items = await backend.getRange('/')
    assert.ok(items.length > 0)
    const keyBody = privateKey.split('\n').filter((line) => !line.startsWith('-----')).join('')
    for (const item of items) {
      assert.ok(!item.value.includes('PRIVATE KEY'))
      for (const secret of [id, bearerToken, keyBody.slice(0, 40), keyBody.slice(-40)]) {
        assert.ok(!item.key.includes(secret), `${item.key} holds a secret`)
        assert.ok(!item.value.includes(secret), `${item.key}'s value holds a secret`)
      }
    }
  })

  test('a wrong bearer token, one differing in its last character, or another session\'s, is refused alike', async () => {
    const {clock, sessions} = service()
    const {id, bearerToken} = await create(sessions, clock)
    const other = await create(sessions, clock)
    const lastFlipped = bearerToken.slice(0, -1) + (bearerToken.endsWith('0') ? '1' : '0')
    for (const token of [lastFlipped, other.bearerToken, '', bearerToken + '0', 'x']) {
      await assert.rejects(sessions.authenticate(id, token), refused)
    }
    await assert.rejects(sessions.authenticate(id, undefined as unknown as string), refused)
    // An id that is not one (malformed, unknown) is refused the same way.
    await assert.rejects(sessions.authenticate('../../users/alice', bearerToken), refused)
    await assert.rejects(sessions.authenticate('0'.repeat(64), bearerToken), refused)
    assert.equal((await sessions.authenticate(id, bearerToken)).user, 'alice')
  })

  test('a session ends at its expiry whatever its activity, and is removed', async () => {
    const {clock, backend, sessions} = service()
    const {id, bearerToken} = await create(sessions, clock, 'alice', 20 * MINUTE)
    for (let i = 0; i < 3; i++) {
      clock.advance(6 * MINUTE)
      await sessions.authenticate(id, bearerToken)
    }
    clock.advance(2 * MINUTE)
    await assert.rejects(sessions.authenticate(id, bearerToken), refused)
    await assert.rejects(sessions.get(id), refused)
    assert.deepEqual(await sessions.listUser('alice'), [])
    assert.deepEqual(await backend.getRange('/websessions/'), [])
  })

  test('a session\'s certificate is known as ended once the session is (signed out, idle), until the certificate expires', async () => {
    const {clock, backend, sessions} = service()
    const out = await create(sessions, clock)
    const idle = await create(sessions, clock)
    const live = await create(sessions, clock)
    assert.equal(await sessions.hasEnded(out.publicKey), false)
    assert.equal(await sessions.hasEnded(generateKeyPair().publicKey), false, 'not a web session\'s')
    await sessions.delete(out.id)
    assert.equal(await sessions.hasEnded(out.publicKey), true)
    clock.advance(20 * MINUTE)
    await sessions.authenticate(live.id, live.bearerToken)
    clock.advance(10 * MINUTE)
    assert.equal(await sessions.hasEnded(idle.publicKey), true)
    assert.equal(await sessions.hasEnded(live.publicKey), false)
    clock.advance(12 * HOUR)
    assert.deepEqual(await backend.getRange('/websessions/'), [], 'nothing is kept past the certificates')
  })

  test('a session idle for the idle timeout ends; activity keeps it alive', async () => {
    const {clock, sessions} = service()
    const {id, bearerToken} = await create(sessions, clock)
    clock.advance(29 * MINUTE)
    await sessions.authenticate(id, bearerToken) // active again: 30 minutes from now
    clock.advance(29 * MINUTE)
    assert.equal((await sessions.get(id)).user, 'alice')
    clock.advance(MINUTE)
    await assert.rejects(sessions.authenticate(id, bearerToken), refused)
    await assert.rejects(sessions.sign(id, Buffer.from('x')), refused)
  })

  test('checking a session (get, sign) is not activity; activity is written at most every 10 s', async () => {
    const {clock, sessions} = service({idleTimeoutMs: 2 * MINUTE})
    const {id, bearerToken} = await create(sessions, clock)
    clock.advance(ACTIVITY_WRITE_INTERVAL_MS - 1)
    const unchanged = await sessions.authenticate(id, bearerToken)
    assert.equal(unchanged.lastActive, unchanged.created)
    clock.advance(1)
    assert.equal((await sessions.authenticate(id, bearerToken)).lastActive, clock.now().toISOString())
    clock.advance(MINUTE)
    await sessions.get(id)
    await sessions.sign(id, Buffer.from('data'))
    clock.advance(MINUTE)
    await assert.rejects(sessions.get(id), refused)
  })

  test('sign answers the raw Ed25519 signature of the session key; nothing after sign-out', async () => {
    const {clock, sessions} = service()
    const {id, publicKey} = await create(sessions, clock)
    const data = Buffer.from('session data to sign')
    const signature = await sessions.sign(id, data)
    assert.equal(signature.length, 64)
    assert.ok(verify(null, data, publicKeyObjectFromBlob(parsePublicKeyLine(publicKey).blob), signature))
    await sessions.delete(id)
    await assert.rejects(sessions.sign(id, data), refused)
  })

  test('sign-out removes the session and its key; it is idempotent', async () => {
    const {clock, backend, sessions} = service()
    const {id, bearerToken} = await create(sessions, clock)
    await sessions.delete(id)
    await sessions.delete(id)
    await sessions.delete('not a session id')
    await assert.rejects(sessions.authenticate(id, bearerToken), refused)
    assert.deepEqual((await backend.getRange('/websessions/')).map((item) => item.key.split('/')[2]), ['keys'], 'only the ended certificate\'s key is left')
  })

  test('a user keeps at most the cap of live sessions: a new sign-in drops the oldest', async () => {
    const {clock, sessions} = service({maxPerUser: 3})
    const made = []
    for (let i = 0; i < 4; i++) {
      made.push(await create(sessions, clock))
      clock.advance(1000)
    }
    await create(sessions, clock, 'bob')
    await assert.rejects(sessions.get(made[0]!.id), refused)
    for (const {id} of made.slice(1)) assert.equal((await sessions.get(id)).user, 'alice')
    assert.equal((await sessions.listUser('alice')).length, 3)
    assert.equal((await sessions.listUser('bob')).length, 1)
  })

  test('deleting a user\'s sessions leaves other users\' alone', async () => {
    const {clock, sessions} = service()
    const alice = await create(sessions, clock)
    const bob = await create(sessions, clock, 'bob')
    await sessions.deleteUser('alice')
    await assert.rejects(sessions.get(alice.id), refused)
    assert.equal((await sessions.get(bob.id)).user, 'bob')
  })

  test('a session survives a restart: a new service on the same backend knows it', async () => {
    const {clock, backend, sessions} = service()
    const {id, bearerToken} = await create(sessions, clock)
    const again = new WebSessionService(backend, {clock})
    assert.equal((await again.authenticate(id, bearerToken)).user, 'alice')
  })
})
