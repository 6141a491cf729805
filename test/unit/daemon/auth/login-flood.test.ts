import assert from 'node:assert/strict'
import {afterEach, describe, test} from 'node:test'
import type {AuthServer} from '../../../../src/daemon/auth/auth-server.js'
import {LimitExceededError} from '../../../../src/lib/errors.js'
import {bcryptPasswordChecker, type PasswordChecker} from '../../../../src/services/index.js'
import {generateKeyPair} from '../../../../src/sshca/index.js'
import {memoryAuthServer, type MemoryAuthServer} from '../../../helpers/memory-auth-server.js'

// Password logins at the auth server: a flood of sign-ins is refused per client address before
// any bcrypt runs, and the lockout answer is the same whether the name exists or not.

const open: MemoryAuthServer[] = []
afterEach(async () => {
  for (const server of open.splice(0)) await server.close()
})

async function authServer() {
  let bcryptRuns = 0
  const counting: PasswordChecker = {
    verify: async (password, hash) => (bcryptRuns++, bcryptPasswordChecker.verify(password, hash)),
    burn: async (password, cost) => (bcryptRuns++, bcryptPasswordChecker.burn(password, cost)),
  }
  const server = await memoryAuthServer({passwordChecker: counting})
  open.push(server)
  const {auth, audit, clock} = server
  await auth.roles.upsert({kind: 'role', version: 'v5', metadata: {name: 'access'}, spec: {allow: {logins: ['alice']}}})
  await auth.users.create({name: 'alice', roles: ['access'], password: 'right-password'})
  return {auth, audit, clock, bcryptRuns: () => bcryptRuns}
}

const publicKey = generateKeyPair().publicKey
const login = (auth: AuthServer, username: string, password: string, clientAddr = '203.0.113.7') =>
  auth.login({username, password, publicKey, clientAddr}, {user: 'proxy', remoteAddr: '127.0.0.1'})

describe('password login flooding', () => {
  test('16 parallel sign-ins of unknown names: the excess is refused by the rate limit without bcrypt, and audited', async () => {
    const {auth, audit, bcryptRuns} = await authServer()
    const results = await Promise.allSettled(Array.from({length: 16}, (_, i) => login(auth, `nobody-${i}`, 'guess')))
    const refused = results.map((r) => (r.status === 'rejected' ? (r.reason as Error) : undefined))
    const limited = refused.filter((err) => err instanceof LimitExceededError)
    assert.equal(limited.length, 6)
    assert.equal(bcryptRuns(), 10, 'bcrypt ran only for the 10 attempts the limit let through')
    assert.match(limited[0]!.message, /^too many login attempts, try again in 6 seconds$/)
    const failures = audit.all().filter((e) => e.event === 'user.login' && e.code === 'T1000W')
    assert.equal(failures.length, 16)
    assert.equal(failures.filter((e) => e.error === limited[0]!.message).length, 6)
    assert.ok(failures.every((e) => e['addr.remote'] === '203.0.113.7'))

    // Another address is not held up; the flooding one gets a token back as time passes.
    await assert.rejects(login(auth, 'nobody-x', 'guess', '198.51.100.1'), {name: 'AccessDeniedError'})
    assert.equal(bcryptRuns(), 11)
  })

  test('the limit counts failures only: successful logins from one address are never refused', async () => {
    const {auth} = await authServer()
    for (let i = 0; i < 30; i++) assert.equal((await login(auth, 'alice', 'right-password')).username, 'alice')
  })

  test('a refill lets the address try again', async () => {
    const {auth, clock} = await authServer()
    for (let i = 0; i < 10; i++) await assert.rejects(login(auth, `n${i}`, 'guess'), {name: 'AccessDeniedError'})
    await assert.rejects(login(auth, 'n', 'guess'), LimitExceededError)
    clock.advance(6_000)
    await assert.rejects(login(auth, 'n', 'guess'), {name: 'AccessDeniedError'})
  })

  test('the lockout message is the same for a known and an unknown name', async () => {
    const {auth} = await authServer()
    const lockedAnswer = async (name: string, clientAddr: string) => {
      for (let i = 0; i < 5; i++) await assert.rejects(login(auth, name, 'wrong', clientAddr), {message: 'invalid username, password or second factor'})
      return login(auth, name, 'right-password', clientAddr).then(
        () => 'logged in',
        (err: Error) => `${err.name}: ${err.message.replace(JSON.stringify(name), 'NAME')} (${(err as {hint?: string}).hint})`,
      )
    }
    const known = await lockedAnswer('alice', '192.0.2.1')
    const unknown = await lockedAnswer('mallory', '192.0.2.2')
    assert.match(known, /^AccessDeniedError: user NAME is locked until /)
    assert.equal(unknown, known)
  })
})
