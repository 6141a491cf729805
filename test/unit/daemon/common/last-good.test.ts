import assert from 'node:assert/strict'
import {describe, test} from 'node:test'
import {AUTH_OUTAGE_STALE_MS, LastGood} from '../../../../src/daemon/common/last-good.js'
import {FakeClock} from '../../../../src/lib/clock.js'
import {AccessDeniedError, UserError} from '../../../../src/lib/errors.js'
import {memoryLogger} from '../../../helpers/memory-logger.js'

// "Fetch with last-good fallback", as the proxy's node list and CA keys and the node's roles use
// it: fresh values are shared, an unreachable auth is covered for a bounded time and the debug log
// says how stale, a refusal is never covered.

function scripted() {
  const state = {fetches: 0, value: 'v1', failure: undefined as Error | undefined}
  const fetch = async () => {
    state.fetches++
    if (state.failure) throw state.failure
    return state.value
  }
  return {state, fetch}
}

const down = () => new UserError('cannot reach the auth server at 127.0.0.1:3025: connection refused')

describe('LastGood', () => {
  test('a fresh value is shared; concurrent callers share one fetch; refresh fetches again', async () => {
    const clock = new FakeClock()
    const {state, fetch} = scripted()
    const cache = new LastGood(fetch, {what: 'node list', freshMs: 3000, clock})
    const [a, b] = await Promise.all([cache.get(), cache.get()])
    assert.deepEqual([a, b], [{value: 'v1', cached: false}, {value: 'v1', cached: false}])
    assert.equal(state.fetches, 1)
    clock.advance(2000)
    assert.deepEqual(await cache.get(), {value: 'v1', cached: true})
    state.value = 'v2'
    assert.deepEqual(await cache.get({refresh: true}), {value: 'v2', cached: false})
    clock.advance(3000)
    state.value = 'v3'
    assert.deepEqual(await cache.get(), {value: 'v3', cached: false})
    assert.equal(state.fetches, 3)
  })

  test('auth unreachable: the last value serves, says how stale, and is refused once too old', async () => {
    const clock = new FakeClock()
    const log = memoryLogger()
    const {state, fetch} = scripted()
    const cache = new LastGood(fetch, {what: 'node list', freshMs: 3000, clock, log})
    await cache.get()
    clock.advance(42_000)
    state.failure = down()
    assert.deepEqual(await cache.get(), {value: 'v1', cached: true})
    assert.deepEqual(log.lines, ['DEBUG auth unreachable (cannot reach the auth server at 127.0.0.1:3025: connection refused); serving node list from 42s ago'])
    // Within freshMs of the failure, auth is not asked again (callers do not each wait on it).
    clock.advance(1000)
    assert.deepEqual(await cache.get({refresh: true}), {value: 'v1', cached: true})
    assert.equal(state.fetches, 2)
    assert.equal(log.lines[1], 'DEBUG auth unreachable; serving node list from 43s ago')
    clock.set(clock.now().getTime() - 43_000 + AUTH_OUTAGE_STALE_MS)
    await assert.rejects(cache.get(), /cannot reach the auth server/)
    // Back: fresh again.
    state.failure = undefined
    state.value = 'v2'
    assert.deepEqual(await cache.get(), {value: 'v2', cached: false})
  })

  test('once auth is known to be away, callers do not wait on a hanging fetch; its answer is used when it comes', async () => {
    const clock = new FakeClock()
    let answer: ((value: string) => void) | undefined
    let fetches = 0
    const cache = new LastGood(
      async () => {
        fetches++
        if (fetches === 1) return 'v1'
        if (fetches === 2) throw down()
        return new Promise<string>((resolve) => (answer = resolve)) // a dead host: no answer yet
      },
      {what: 'node list', freshMs: 3000, clock},
    )
    await cache.get()
    clock.advance(5000)
    assert.deepEqual(await cache.get(), {value: 'v1', cached: true}) // fetch 2 failed
    clock.advance(5000)
    assert.deepEqual(await cache.get(), {value: 'v1', cached: true}) // fetch 3 hangs in the background
    assert.deepEqual(await cache.get(), {value: 'v1', cached: true})
    assert.equal(fetches, 3)
    answer!('v2')
    await new Promise((r) => setImmediate(r))
    assert.deepEqual(await cache.get(), {value: 'v2', cached: true})
  })

  test('nothing fetched yet: the error is thrown', async () => {
    const {state, fetch} = scripted()
    state.failure = down()
    const cache = new LastGood(fetch, {what: 'CA keys', freshMs: 3000, clock: new FakeClock()})
    await assert.rejects(cache.get(), /cannot reach/)
  })

  test('a refusal from auth is never covered with the old value', async () => {
    const clock = new FakeClock()
    const {state, fetch} = scripted()
    const cache = new LastGood(fetch, {what: 'role "ops"', freshMs: 3000, clock})
    await cache.get()
    clock.advance(5000)
    state.failure = new AccessDeniedError('access denied')
    await assert.rejects(cache.get(), AccessDeniedError)
  })
})
