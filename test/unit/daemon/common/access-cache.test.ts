import {describe, test} from 'node:test'
import assert from 'node:assert/strict'
import {AccessCache, type AccessStateApi} from '../../../../src/daemon/common/access-cache.js'
import {FakeClock} from '../../../../src/lib/clock.js'
import type {Logger} from '../../../../src/lib/log.js'
import {lockFromResource, type Lock} from '../../../../src/services/locks.js'

// The node's and proxy's view of locks and deleted users, against an auth API twin that can go away.

const quiet: Logger = {debug: () => {}, info: () => {}, warn: () => {}, error: () => {}, child: () => quiet}

class AuthTwin implements AccessStateApi {
  locks: Lock[] = []
  users = new Set<string>(['alice', 'bob'])
  down = false
  calls = 0
  async listLocks(): Promise<Lock[]> {
    this.calls++
    if (this.down) throw new Error('connection refused')
    return this.locks
  }
  async userStatus(name: string): Promise<{exists: boolean}> {
    this.calls++
    if (this.down) throw new Error('connection refused')
    return {exists: this.users.has(name)}
  }
}

const userLock = (user: string, message?: string) => lockFromResource({kind: 'lock', version: 'v2', metadata: {name: `l-${user}`}, spec: {target: {user}, ...(message ? {message} : {})}})

function make(active: string[] = []) {
  const clock = new FakeClock()
  const api = new AuthTwin()
  const cache = new AccessCache(api, {clock, log: quiet, activeUsers: () => active})
  return {clock, api, cache}
}

describe('AccessCache', () => {
  test('a lock learnt on a poll refuses; removed, it no longer does', async () => {
    const {api, cache} = make()
    assert.equal(await cache.check({user: 'alice', roles: ['access']}), undefined)
    api.locks = [userLock('alice', 'call security')]
    await cache.refresh()
    assert.equal(cache.refusal({user: 'alice'}), 'lock targeting User:"alice" is in force: call security')
    assert.equal(cache.refusal({user: 'bob'}), undefined)
    api.locks = []
    await cache.refresh()
    assert.equal(cache.refusal({user: 'alice'}), undefined)
  })

  test('a deleted user with a running session is found on the next poll, and listeners hear of it', async () => {
    const {api, cache} = make(['bob'])
    assert.equal(await cache.check({user: 'bob'}), undefined)
    let changes = 0
    cache.onChange(() => changes++)
    api.users.delete('bob')
    await cache.refresh()
    assert.equal(changes, 1)
    assert.equal(cache.refusal({user: 'bob'}), 'user "bob" no longer exists')
  })

  test('a new connection re-checks the user unless checked within the poll interval', async () => {
    const {api, cache, clock} = make()
    await cache.check({user: 'alice'})
    const calls = api.calls
    await cache.check({user: 'alice'})
    assert.equal(api.calls, calls)
    api.users.delete('alice')
    clock.advance(2_500)
    assert.equal(await cache.check({user: 'alice'}), 'user "alice" no longer exists')
  })

  test('auth away: known locks stay in force, known users are served, unknown users refused', async () => {
    const {api, cache, clock} = make()
    api.locks = [userLock('bob')]
    await cache.refresh()
    await cache.check({user: 'alice'})
    api.down = true
    clock.advance(60_000)
    await cache.refresh()
    assert.equal(cache.refusal({user: 'bob'}), 'lock targeting User:"bob" is in force')
    assert.equal(await cache.check({user: 'alice'}), undefined)
    await assert.rejects(cache.check({user: 'carol'}), /cannot check user "carol" with the auth server: connection refused/)
  })
})
