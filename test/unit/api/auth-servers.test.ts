import assert from 'node:assert/strict'
import {describe, test} from 'node:test'
import {AuthServers} from '../../../src/api/auth-servers.js'

// The one failover rule every connection to auth uses: the server in use, then the others in
// turn while they cannot be reached; a refusal ends it; the one that answered is kept.

class Unreachable extends Error {}
const unreachable = (err: unknown) => err instanceof Unreachable

describe('AuthServers', () => {
  test('wildcards are dialled on loopback; repeats dropped; described for messages', () => {
    const servers = new AuthServers([{host: '0.0.0.0', port: 3025}, {host: '127.0.0.1', port: 3025}, {host: '::', port: 1}, {host: 'b', port: 2}])
    assert.deepEqual(servers.all, [{host: '127.0.0.1', port: 3025}, {host: '::1', port: 1}, {host: 'b', port: 2}])
    assert.equal(servers.describe(), 'the auth servers at 127.0.0.1:3025, [::1]:1, b:2')
    assert.equal(new AuthServers([{host: 'a', port: 1}]).describe(), 'the auth server at a:1')
    assert.throws(() => new AuthServers([]))
  })

  test('past the ones that cannot be reached to the first that answers, which stays in use for every caller', async () => {
    const servers = new AuthServers([{host: 'a', port: 1}, {host: 'b', port: 1}, {host: 'c', port: 1}])
    const down = new Set(['a'])
    const tried: string[] = []
    const attempt = async ({host}: {host: string}) => {
      tried.push(host)
      if (down.has(host)) throw new Unreachable(host)
      return host
    }
    assert.equal(await servers.inTurn(attempt, unreachable), 'b')
    assert.equal(servers.inUse.host, 'b')
    tried.length = 0
    assert.equal(await servers.inTurn(attempt, unreachable), 'b', 'another caller starts at the one in use')
    assert.deepEqual(tried, ['b'])
    down.add('b')
    tried.length = 0
    assert.equal(await servers.inTurn(attempt, unreachable), 'c')
    assert.deepEqual(tried, ['b', 'c'])
    down.clear()
    down.add('c')
    tried.length = 0
    assert.equal(await servers.inTurn(attempt, unreachable), 'a', 'round the list from the one in use')
    assert.deepEqual(tried, ['c', 'a'])
  })

  test('a failure that is not "unreachable" is final; none reachable throws the last failure and keeps the one in use', async () => {
    const servers = new AuthServers([{host: 'a', port: 1}, {host: 'b', port: 1}])
    const tried: string[] = []
    await assert.rejects(
      servers.inTurn(async ({host}) => {
        tried.push(host)
        throw new Error(`refused by ${host}`)
      }, unreachable),
      /refused by a/,
    )
    assert.deepEqual(tried, ['a'])
    await assert.rejects(
      servers.inTurn(async ({host}) => {
        throw new Unreachable(`cannot reach ${host}`)
      }, unreachable),
      /cannot reach b/,
    )
    assert.equal(servers.inUse.host, 'a')
  })
})
