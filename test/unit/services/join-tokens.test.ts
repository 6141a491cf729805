import {describe, test} from 'node:test'
import assert from 'node:assert/strict'
import {AccessDeniedError, AlreadyExistsError, BadParameterError, NotFoundError} from '../../../src/lib/errors.js'
import {JoinTokenService, parseStaticTokens} from '../../../src/services/join-tokens.js'
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
