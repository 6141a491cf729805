import {describe, test} from 'node:test'
import assert from 'node:assert/strict'
import {AccessDeniedError, AlreadyExistsError, BadParameterError, CompareFailedError, NotFoundError} from '../../../src/lib/errors.js'
import {HostIdService} from '../../../src/services/host-ids.js'
import {JoinTokenService, MAX_JOIN_TOKEN_USES, parseStaticTokens} from '../../../src/services/join-tokens.js'
import {generateKeyPair} from '../../../src/sshca/index.js'
import {HOUR, MINUTE, setup} from './helpers.js'

function service(options: {staticTokens?: string[]; maxTtlMs?: number} = {}) {
  const {clock, backend} = setup()
  return {clock, backend, tokens: new JoinTokenService(backend, {clock, ...options})}
}

describe('static tokens', () => {
  test('parse "type:token" entries, several types allowed, case-insensitive', () => {
    assert.deepEqual(parseStaticTokens(['node:abc123', 'Node,Proxy:def456']), [
      {token: 'abc123', roles: ['node'], static: true},
      {token: 'def456', roles: ['node', 'proxy'], static: true},
    ])
  })

  test('bad entries are named without their secret', () => {
    assert.throws(() => parseStaticTokens(['node:ok', 'abc123']), {message: 'auth_service.tokens[1]: expected "<type>:<token>", e.g. "node:abc123"'})
    assert.throws(() => parseStaticTokens(['node:']), /auth_service.tokens\[0\]/)
    assert.throws(() => parseStaticTokens(['db:secret1']), (err: Error) => /auth_service.tokens\[0\]: unknown token type "db"/.test(err.message) && !err.message.includes('secret1'))
  })

  test('validate: never expire, role checked', async () => {
    const {tokens, clock} = service({staticTokens: ['node:abc123', 'proxy:def456']})
    clock.advance(10 * 365 * 24 * HOUR)
    assert.deepEqual(await tokens.validate('abc123', 'node'), {token: 'abc123', roles: ['node'], static: true})
    await assert.rejects(tokens.validate('abc123', 'proxy'), {name: 'AccessDeniedError', message: 'token does not allow role "proxy"; it is for node'})
    await assert.rejects(tokens.validate('abc12', 'node'), {message: 'unknown join token'})
    await assert.rejects(tokens.validate('abc1234', 'node'), {message: 'unknown join token'})
  })

  test('listed first, cannot be deleted', async () => {
    const {tokens} = service({staticTokens: ['node:abc123']})
    await tokens.add({type: 'proxy'})
    const all = await tokens.list()
    assert.deepEqual(all[0], {token: 'abc123', roles: ['node'], static: true})
    assert.equal(all.length, 2)
    await assert.rejects(tokens.delete('abc123'), {name: 'BadParameterError', message: 'this is a static token from the config file and cannot be deleted'})
  })
})

describe('dynamic tokens', () => {
  test('add: 32 hex characters, 15 minutes by default', async () => {
    const {tokens, clock} = service()
    const t = await tokens.add({type: 'node'})
    assert.match(t.token, /^[0-9a-f]{32}$/)
    assert.deepEqual(t.roles, ['node'])
    assert.equal(t.static, false)
    assert.equal(t.expires!.getTime() - clock.now().getTime(), 15 * MINUTE)
    assert.deepEqual(await tokens.validate(t.token, 'node'), t)
  })

  test('the TTL may be shorter, and longer only up to the maximum', async () => {
    const {tokens, clock} = service({maxTtlMs: 2 * HOUR})
    const short = await tokens.add({type: 'node', ttlMs: 5 * MINUTE})
    assert.equal(short.expires!.getTime() - clock.now().getTime(), 5 * MINUTE)
    await tokens.add({type: 'node', ttlMs: 2 * HOUR})
    await assert.rejects(tokens.add({type: 'node', ttlMs: 3 * HOUR}), {
      name: 'BadParameterError',
      message: 'token TTL 3h0m0s is longer than the maximum of 2h0m0s',
    })
    await assert.rejects(tokens.add({type: 'node', ttlMs: 0}), /invalid token TTL/)
    await assert.rejects(tokens.add({type: 'node', ttlMs: -5}), /invalid token TTL/)
  })

  test('the default maximum is 24h', async () => {
    const {tokens} = service()
    await tokens.add({type: 'node', ttlMs: 24 * HOUR})
    await assert.rejects(tokens.add({type: 'node', ttlMs: 24 * HOUR + 1}), BadParameterError)
  })

  test('types: one, several, comma-separated; unknown refused', async () => {
    const {tokens} = service()
    assert.deepEqual((await tokens.add({type: ['node', 'proxy']})).roles, ['node', 'proxy'])
    assert.deepEqual((await tokens.add({type: 'auth,trusted_cluster'})).roles, ['auth', 'trusted_cluster'])
    await assert.rejects(tokens.add({type: 'nodes'}), {message: 'unknown token type "nodes"; expected one of node, proxy, auth, trusted_cluster'})
    await assert.rejects(tokens.add({type: []}), /a token type is required/)
  })

  test('a chosen value; taken values refused', async () => {
    const {tokens} = service({staticTokens: ['node:static-one']})
    assert.equal((await tokens.add({type: 'node', token: 'my-token-1'})).token, 'my-token-1')
    await assert.rejects(tokens.add({type: 'node', token: 'my-token-1'}), AlreadyExistsError)
    await assert.rejects(tokens.add({type: 'node', token: 'static-one'}), AlreadyExistsError)
    await assert.rejects(tokens.add({type: 'node', token: 'has space'}), BadParameterError)
  })

  test('validate: expired, unknown, wrong role', async () => {
    const {tokens, clock} = service()
    const t = await tokens.add({type: 'node'})
    await assert.rejects(tokens.validate(t.token, 'proxy'), {message: 'token does not allow role "proxy"; it is for node'})
    await assert.rejects(tokens.validate('f'.repeat(32), 'node'), (err: Error) => err instanceof AccessDeniedError && err.message === 'unknown join token' && /tctl tokens/.test((err as AccessDeniedError).hint!))
    await assert.rejects(tokens.validate('', 'node'), {message: 'unknown join token'})
    clock.advance(15 * MINUTE - 1)
    await tokens.validate(t.token, 'node')
    clock.advance(1)
    await assert.rejects(tokens.validate(t.token, 'node'), (err: Error) => err instanceof AccessDeniedError && err.message === 'join token expired' && /tctl tokens add --type=node/.test((err as AccessDeniedError).hint!))
    // Long gone: unknown.
    clock.advance(2 * HOUR)
    await assert.rejects(tokens.validate(t.token, 'node'), {message: 'unknown join token'})
  })

  test('validate: unknown role names are a bad parameter; case-insensitive', async () => {
    const {tokens} = service()
    const t = await tokens.add({type: 'proxy'})
    await tokens.validate(t.token, 'Proxy')
    await assert.rejects(tokens.validate(t.token, 'db'), BadParameterError)
  })

  test('a token is usable more than once until it expires', async () => {
    const {tokens} = service()
    const t = await tokens.add({type: 'node'})
    await tokens.validate(t.token, 'node')
    await tokens.validate(t.token, 'node')
  })

  test('list: token, types, expiry; expired ones are gone', async () => {
    const {tokens, clock} = service()
    const a = await tokens.add({type: 'node', ttlMs: 10 * MINUTE})
    const b = await tokens.add({type: ['proxy'], ttlMs: 5 * MINUTE})
    assert.deepEqual(await tokens.list(), [b, a])
    clock.advance(5 * MINUTE)
    assert.deepEqual(await tokens.list(), [a])
  })

  test('delete', async () => {
    const {tokens, clock} = service()
    const t = await tokens.add({type: 'node'})
    await tokens.delete(t.token)
    await assert.rejects(tokens.validate(t.token, 'node'), {message: 'unknown join token'})
    await assert.rejects(tokens.delete(t.token), {name: 'NotFoundError', message: 'join token not found'})
    const expired = await tokens.add({type: 'node'})
    clock.advance(HOUR)
    await assert.rejects(tokens.delete(expired.token), NotFoundError)
  })

  test('the backend key is the hash, not the token', async () => {
    const {tokens, backend} = service()
    const t = await tokens.add({type: 'node'})
    const [item] = await backend.getRange('/tokens/')
    assert.ok(!item!.key.includes(t.token))
    assert.match(item!.key, /^\/tokens\/[0-9a-f]{64}$/)
  })
})

describe('token uses', () => {
  const ID = (n: number) => `0f0f0f0f-1111-4222-8333-44445555666${n}`
  const newHost = async (hostIds: HostIdService, n: number) => hostIds.claimForJoin(ID(n), 'Node', generateKeyPair().publicKey)
  const withIds = () => {
    const s = service({staticTokens: ['node:static-token']})
    return {...s, hostIds: new HostIdService(s.backend, {clock: s.clock})}
  }

  test('a dynamic token admits one new host; then "already been used", and it leaves tokens ls', async () => {
    const {tokens, hostIds} = withIds()
    const t = await tokens.add({type: 'node'})
    assert.equal(t.usesLeft, 1)
    assert.equal((await tokens.admit(t.token, 'node', await newHost(hostIds, 1))).usesLeft, 0)
    await assert.rejects(tokens.admit(t.token, 'node', await newHost(hostIds, 2)), (err) => err instanceof AccessDeniedError && err.message === 'join token has already been used' && /--uses=N/.test(err.hint ?? ''))
    assert.equal(await hostIds.get(ID(2)), undefined, 'the refused host is not registered')
    assert.deepEqual((await tokens.list()).map((x) => x.token), ['static-token'])
  })

  test('--uses=N admits N new hosts; the host that used it may still join its other role', async () => {
    const {tokens, hostIds, backend} = withIds()
    const t = await tokens.add({type: 'node,proxy', uses: 2})
    const key = generateKeyPair()
    const proxy = await hostIds.claimForJoin(ID(1), 'Proxy', key.publicKey)
    await tokens.admit(t.token, 'proxy', proxy)
    await tokens.admit(t.token, 'node', await hostIds.claimForJoin(ID(1), 'Node', key.publicKey))
    assert.equal((await tokens.list()).find((x) => x.token === t.token)?.usesLeft, 1)
    await tokens.admit(t.token, 'node', await newHost(hostIds, 2))
    await assert.rejects(tokens.admit(t.token, 'node', await newHost(hostIds, 3)), /already been used/)
    assert.deepEqual((await backend.getRange('/hostids/')).length, 2)
  })

  test('two racing joins on a single-use token: exactly one is admitted', async () => {
    const {tokens, hostIds} = withIds()
    const t = await tokens.add({type: 'node'})
    const claims = await Promise.all([newHost(hostIds, 1), newHost(hostIds, 2)])
    const results = await Promise.allSettled(claims.map((c) => tokens.admit(t.token, 'node', c)))
    assert.deepEqual(results.map((r) => r.status).sort(), ['fulfilled', 'rejected'])
    assert.ok(results.some((r) => r.status === 'rejected' && r.reason instanceof AccessDeniedError && r.reason.message === 'join token has already been used'))
    assert.equal((await Promise.all([hostIds.get(ID(1)), hostIds.get(ID(2))])).filter(Boolean).length, 1)
  })

  test('N racing joins on an N-use token: all are admitted, and one more is refused', async () => {
    const {tokens, hostIds} = withIds()
    const t = await tokens.add({type: 'node', uses: 5})
    const claims = await Promise.all([1, 2, 3, 4, 5].map((n) => newHost(hostIds, n)))
    const results = await Promise.allSettled(claims.map((c) => tokens.admit(t.token, 'node', c)))
    assert.deepEqual(results.map((r) => r.status), ['fulfilled', 'fulfilled', 'fulfilled', 'fulfilled', 'fulfilled'])
    assert.deepEqual(results.map((r) => (r as PromiseFulfilledResult<{usesLeft?: number}>).value.usesLeft).sort(), [0, 1, 2, 3, 4])
    await assert.rejects(tokens.admit(t.token, 'node', await newHost(hostIds, 6)), /already been used/)
  })

  test('static tokens stay as configured: any number of hosts', async () => {
    const {tokens, hostIds} = withIds()
    for (let n = 1; n <= 3; n++) await tokens.admit('static-token', 'node', await newHost(hostIds, n))
  })

  test('uses must be a whole number from 1', async () => {
    const {tokens} = service()
    for (const uses of [0, -1, 1.5, MAX_JOIN_TOKEN_USES + 1]) await assert.rejects(tokens.add({type: 'node', uses}), BadParameterError, String(uses))
  })
})
