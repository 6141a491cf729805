import assert from 'node:assert/strict'
import {verify} from 'node:crypto'
import {afterEach, describe, test} from 'node:test'
import {AuthApiClient} from '../../../../src/api/auth-api-client.js'
import type {ApiIdentity} from '../../../../src/api/identity.js'
import {MemoryTransport} from '../../../../src/api/memory-transport.js'
import {authApiRoutes} from '../../../../src/daemon/auth/api-routes.js'
import {EventCode} from '../../../../src/events/index.js'
import {DEFAULT_CERT_TTL_MS, generateTotpCode, newTotpSecret, WEB_SESSION_GONE} from '../../../../src/services/index.js'
import {generateKeyPair, parseCert, parsePublicKeyLine, publicKeyObjectFromBlob, type ParsedCert} from '../../../../src/sshca/index.js'
import {memoryAuthServer, type MemoryAuthServer} from '../../../helpers/memory-auth-server.js'

// The web-session routes through the real router and authorization: only the proxy signs browsers
// in (password and TOTP checked, audited, rate-limited and locked as tsh login), checks sessions,
// signs with a session's key and signs out; a user changes only their own password, knowing it.

const open: MemoryAuthServer[] = []
afterEach(async () => {
  for (const server of open.splice(0)) await server.close()
})

const MINUTE = 60_000
const PROXY: ApiIdentity = {kind: 'host', hostId: 'proxy-1', role: 'Proxy', remoteAddr: '10.0.0.2', cert: {} as ParsedCert}
const host = (role: 'Node' | 'Admin'): ApiIdentity => ({kind: 'host', hostId: `${role.toLowerCase()}-1`, role, remoteAddr: '10.0.0.5', cert: {} as ParsedCert})
const user = (username: string, roles: string[] = []): ApiIdentity => ({kind: 'user', username, roles, traits: {}, remoteAddr: '10.0.0.2', cert: {} as ParsedCert})

async function cluster(options: {webIdleTimeoutMs?: number} = {}) {
  const server = await memoryAuthServer({secondFactor: 'otp', ...options})
  open.push(server)
  const {auth, clock, audit} = server
  await auth.roles.upsert({kind: 'role', version: 'v5', metadata: {name: 'ops'}, spec: {options: {max_session_ttl: '2h'}, allow: {logins: ['ops']}}})
  const secrets: Record<string, string> = {}
  for (const [name, roles] of [['alice', ['access']], ['bob', ['access', 'ops']], ['ann', ['auditor', 'access']]] as const) {
    await auth.createUser({name, roles: [...roles], traits: {logins: [name]}}, {user: 'admin'})
    await auth.users.setPassword(name, `${name}-password`)
    secrets[name] = newTotpSecret()
    await auth.users.setTotpDevice(name, secrets[name])
  }
  const as = (identity: ApiIdentity) => new AuthApiClient(new MemoryTransport(authApiRoutes(auth), identity, (err) => {
    throw err
  }))
  /** A code for `name` in a later TOTP period than any used before (a code is taken once). */
  const code = (name: string) => {
    clock.advance(30_000)
    return generateTotpCode(secrets[name]!, clock.now().getTime())
  }
  const signIn = (name: string, overrides: {password?: string; otpCode?: string; clientAddr?: string} = {}) =>
    as(PROXY).createWebSession({username: name, password: `${name}-password`, clientAddr: '203.0.113.9', ...overrides, otpCode: 'otpCode' in overrides ? overrides.otpCode : code(name)})
  const events = (code: string) => audit.all().filter((e) => e.code === code)
  return {...server, as, code, signIn, events}
}

const gone = {name: 'AccessDeniedError', message: WEB_SESSION_GONE}

function verifies(certificate: string, data: Buffer, signature: string): boolean {
  const key = publicKeyObjectFromBlob(parsePublicKeyLine(parseCert(certificate).publicKey).blob)
  return verify(null, data, key, Buffer.from(signature, 'base64'))
}

describe('web sessions at auth', () => {
  test('the proxy signs a user in: a tsh-login certificate for a key auth keeps, audited as a login', async () => {
    const {signIn, clock, events} = await cluster()
    const session = await signIn('alice')
    const cert = parseCert(session.certificate)
    assert.equal(cert.keyId, 'alice')
    assert.deepEqual(cert.principals, ['alice'])
    assert.deepEqual(cert.roles, ['access'])
    assert.equal(cert.validBefore!.getTime() - clock.now().getTime(), DEFAULT_CERT_TTL_MS)
    assert.equal(session.expires, cert.validBefore!.toISOString())
    assert.equal(session.user, 'alice')
    assert.deepEqual(session.roles, ['access'])
    assert.equal(session.idleTimeoutMs, 30 * MINUTE)
    assert.match(session.id, /^[0-9a-f]{64}$/)
    assert.ok(session.bearerToken.length >= 32)
    const [login] = events(EventCode.UserLogin)
    assert.equal(login?.user, 'alice')
    assert.equal(login?.method, 'local')
    assert.equal(login?.['addr.remote'], '203.0.113.9')
    assert.equal(events(EventCode.CertificateCreate).length, 1)
  })

  test('the certificate\'s TTL is capped by the roles, as for tsh login', async () => {
    const {signIn, clock} = await cluster()
    const session = await signIn('bob')
    assert.equal(parseCert(session.certificate).validBefore!.getTime() - clock.now().getTime(), 2 * 60 * MINUTE)
    assert.deepEqual(parseCert(session.certificate).principals.sort(), ['bob', 'ops'])
  })

  test('authenticate, sign with the session key, sign out: then nothing works', async () => {
    const {signIn, as} = await cluster()
    const {id, bearerToken, certificate} = await signIn('alice')
    const proxy = as(PROXY)
    const checked = await proxy.authenticateWebSession({id, bearerToken})
    assert.deepEqual({user: checked.user, id: checked.id, certificate: checked.certificate}, {user: 'alice', id, certificate})
    assert.equal('bearerToken' in checked, false)
    const data = Buffer.from('ssh userauth request')
    const {signature} = await proxy.signWithWebSession({id, data: data.toString('base64')})
    assert.ok(verifies(certificate, data, signature), 'the signature verifies with the certificate\'s key')
    await assert.rejects(proxy.authenticateWebSession({id, bearerToken: bearerToken.replace(/.$/, (c) => (c === 'a' ? 'b' : 'a'))}), gone)
    await proxy.deleteWebSession({id})
    await proxy.deleteWebSession({id})
    await assert.rejects(proxy.authenticateWebSession({id, bearerToken}), gone)
    await assert.rejects(proxy.signWithWebSession({id, data: data.toString('base64')}), gone)
  })

  test('no other caller may use the web-session routes: a node, tctl\'s Admin identity, a user (refusals audited)', async () => {
    const {signIn, as, events} = await cluster()
    const {id, bearerToken} = await signIn('alice')
    for (const caller of [host('Node'), host('Admin'), user('alice', ['access'])]) {
      const api = as(caller)
      await assert.rejects(api.createWebSession({username: 'alice', password: 'alice-password'}), {name: 'AccessDeniedError'})
      await assert.rejects(api.authenticateWebSession({id, bearerToken}), {name: 'AccessDeniedError', message: /^access denied/})
      await assert.rejects(api.signWithWebSession({id, data: 'AAAA'}), {name: 'AccessDeniedError', message: /^access denied/})
      await assert.rejects(api.deleteWebSession({id}), {name: 'AccessDeniedError'})
    }
    const refusals = events(EventCode.AuthAttemptFailure)
    assert.equal(refusals.length, 12)
    assert.ok(refusals.some((e) => e.action === 'sign web_session' && /only the proxy/.test(String(e.error))))
    assert.equal((await as(PROXY).authenticateWebSession({id, bearerToken})).user, 'alice')
  })

  test('a wrong password or TOTP code is refused and audited as a failed login; five lock the user, as for tsh login', async () => {
    const {signIn, events, auth} = await cluster()
    await assert.rejects(signIn('alice', {password: 'wrong-password'}), {name: 'AccessDeniedError', message: 'invalid username, password or second factor'})
    await assert.rejects(signIn('alice', {otpCode: '000000'}), {name: 'AccessDeniedError'})
    await assert.rejects(signIn('alice', {otpCode: undefined}), {name: 'AccessDeniedError'})
    const failures = events(EventCode.UserLoginFailure)
    assert.equal(failures.length, 3)
    assert.ok(failures.every((e) => e.user === 'alice' && e.success === false && e.method === 'local'))
    for (let i = 0; i < 2; i++) await assert.rejects(signIn('alice', {password: 'wrong-password'}))
    await assert.rejects(signIn('alice'), {name: 'AccessDeniedError', message: /^user "alice" is locked until/})
    assert.ok((await auth.users.get('alice')).locked)
  })

  test('sign-ins share the login rate limit per client address with tsh login', async () => {
    const {signIn, auth} = await cluster()
    for (let i = 0; i < 10; i++) await assert.rejects(signIn(`nobody${i}`, {password: 'guess', otpCode: '123456'}), {name: 'AccessDeniedError'})
    await assert.rejects(signIn('alice', {otpCode: '123456'}), {name: 'LimitExceededError'})
    await assert.rejects(auth.login({username: 'alice', password: 'alice-password', publicKey: generateKeyPair().publicKey, clientAddr: '203.0.113.9'}, {user: 'proxy'}), {name: 'LimitExceededError'})
    // Another address is not held up.
    assert.equal((await signIn('alice', {clientAddr: '198.51.100.1'})).user, 'alice')
  })

  test('a locked user cannot sign in, and their live session is refused (the lock\'s message) until the lock goes', async () => {
    const {signIn, as, auth} = await cluster()
    const {id, bearerToken} = await signIn('alice')
    const lock = await auth.createLock({target: {user: 'alice'}, message: 'under review'}, {user: 'admin'})
    const locked = {name: 'AccessDeniedError', message: 'lock targeting User:"alice" is in force: under review'}
    await assert.rejects(signIn('alice'), locked)
    await assert.rejects(as(PROXY).authenticateWebSession({id, bearerToken}), locked)
    await assert.rejects(as(PROXY).signWithWebSession({id, data: 'AAAA'}), locked)
    await auth.deleteLock(lock.metadata.name, {user: 'admin'})
    assert.equal((await as(PROXY).authenticateWebSession({id, bearerToken})).user, 'alice')
    // A lock on a role the certificate names refuses too.
    await auth.createLock({target: {role: 'access'}}, {user: 'admin'})
    await assert.rejects(as(PROXY).authenticateWebSession({id, bearerToken}), {message: 'lock targeting Role:"access" is in force'})
  })

  test('a deleted user\'s sessions are gone, and a new user of that name does not inherit them', async () => {
    const {signIn, as, auth} = await cluster()
    const {id, bearerToken} = await signIn('alice')
    await auth.deleteUser('alice', {user: 'admin'})
    await auth.createUser({name: 'alice', roles: ['access'], traits: {logins: ['alice']}}, {user: 'admin'})
    await assert.rejects(as(PROXY).authenticateWebSession({id, bearerToken}), gone)
  })

  test('an idle session ends after auth_service.web_idle_timeout; sign refuses it then', async () => {
    const {signIn, as, clock} = await cluster({webIdleTimeoutMs: 5 * MINUTE})
    const {id, bearerToken, idleTimeoutMs} = await signIn('alice')
    assert.equal(idleTimeoutMs, 5 * MINUTE)
    clock.advance(4 * MINUTE)
    await as(PROXY).authenticateWebSession({id, bearerToken})
    clock.advance(4 * MINUTE)
    await as(PROXY).signWithWebSession({id, data: 'AAAA'})
    clock.advance(MINUTE)
    await assert.rejects(as(PROXY).signWithWebSession({id, data: 'AAAA'}), gone)
    await assert.rejects(as(PROXY).authenticateWebSession({id, bearerToken}), gone)
  })

  test('sign refuses data that is not base64', async () => {
    const {signIn, as} = await cluster()
    const {id} = await signIn('alice')
    await assert.rejects(as(PROXY).signWithWebSession({id, data: 'not base64!'}), {name: 'BadParameterError'})
  })
})

describe('changing a password', () => {
  test('the user, with the current password and a TOTP code: the new one then signs in; audited T1005I', async () => {
    const {as, code, signIn, events} = await cluster()
    const alice = as(user('alice', ['access']))
    await alice.changePassword('alice', {oldPassword: 'alice-password', newPassword: 'new-secret-1', otpCode: code('alice')})
    const [changed] = events(EventCode.UserPasswordChange)
    assert.equal(changed?.user, 'alice')
    assert.equal(changed?.event, 'user.password_change')
    await assert.rejects(signIn('alice'), {name: 'AccessDeniedError'})
    assert.equal((await signIn('alice', {password: 'new-secret-1'})).user, 'alice')
  })

  test('a wrong current password or code is refused and changes nothing; a short new one is refused first', async () => {
    const {as, code, signIn} = await cluster()
    const alice = as(user('alice', ['access']))
    await assert.rejects(alice.changePassword('alice', {oldPassword: 'wrong', newPassword: 'new-secret-1', otpCode: code('alice')}), {name: 'AccessDeniedError'})
    await assert.rejects(alice.changePassword('alice', {oldPassword: 'alice-password', newPassword: 'new-secret-1', otpCode: '000000'}), {name: 'AccessDeniedError'})
    await assert.rejects(alice.changePassword('alice', {oldPassword: 'alice-password', newPassword: 'short', otpCode: code('alice')}), {name: 'BadParameterError', message: /between 6 and 128/})
    assert.equal((await signIn('alice')).user, 'alice')
  })

  test('nobody else may change it: another user, the proxy, the Admin identity', async () => {
    const {as, code} = await cluster()
    for (const caller of [user('bob', ['access', 'ops']), PROXY, host('Admin')]) {
      await assert.rejects(as(caller).changePassword('alice', {oldPassword: 'alice-password', newPassword: 'new-secret-1', otpCode: code('alice')}), {name: 'AccessDeniedError'})
    }
  })
})

describe('what a web user reads', () => {
  test('their own user record and the roles they hold, nothing more without a rule', async () => {
    const {as} = await cluster()
    const alice = as(user('alice', ['access']))
    assert.equal((await alice.getUser('alice')).name, 'alice')
    assert.equal((await alice.getRole('access')).metadata.name, 'access')
    await assert.rejects(alice.getUser('bob'), {name: 'AccessDeniedError'})
    await assert.rejects(alice.getRole('ops'), {name: 'AccessDeniedError'})
    await assert.rejects(alice.searchEvents({from: new Date(0), to: new Date()}), {name: 'AccessDeniedError'})
    // The auditor role's rule lets ann search the audit log.
    const ann = as(user('ann', ['auditor', 'access']))
    assert.ok(Array.isArray((await ann.searchEvents({from: new Date(0), to: new Date(Date.UTC(2030, 0, 1))})).events))
  })
})
