import assert from 'node:assert/strict'
import {describe, test} from 'node:test'
import {FakeClock} from '../../../src/lib/clock.js'
import {RateLimiter} from '../../../src/lib/rate-limiter.js'

describe('RateLimiter (token buckets by key)', () => {
  test('a burst, then one per refill interval, with the wait until the next token', () => {
    const clock = new FakeClock()
    const limiter = new RateLimiter({burst: 3, refillMs: 6_000}, clock)
    assert.deepEqual([limiter.take('a'), limiter.take('a'), limiter.take('a')], [0, 0, 0])
    assert.equal(limiter.take('a'), 6_000)
    clock.advance(4_000)
    assert.equal(limiter.take('a'), 2_000)
    clock.advance(2_000)
    assert.equal(limiter.take('a'), 0)
    assert.equal(limiter.take('a'), 6_000)
    assert.equal(limiter.take('b'), 0, 'keys are independent')
  })

  test('giveBack returns a token, never beyond the burst', () => {
    const clock = new FakeClock()
    const limiter = new RateLimiter({burst: 2, refillMs: 1_000}, clock)
    for (let i = 0; i < 10; i++) {
      assert.equal(limiter.take('a'), 0)
      limiter.giveBack('a')
    }
    limiter.giveBack('a')
    assert.deepEqual([limiter.take('a'), limiter.take('a'), limiter.take('a') > 0], [0, 0, true])
  })

  test('keeps at most maxKeys keys, forgetting the least recently used', () => {
    const clock = new FakeClock()
    const limiter = new RateLimiter({burst: 1, refillMs: 60_000}, clock, 2)
    limiter.take('a')
    limiter.take('b')
    assert.ok(limiter.take('a') > 0) // a is now the most recently used
    limiter.take('c') // b is forgotten
    assert.ok(limiter.take('a') > 0)
    assert.equal(limiter.take('b'), 0)
  })
})
