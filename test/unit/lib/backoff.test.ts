import assert from 'node:assert/strict'
import {describe, test} from 'node:test'
import {Backoff} from '../../../src/lib/backoff.js'
import {FakeClock} from '../../../src/lib/clock.js'

describe('Backoff', () => {
  test('retries after the shortest delay, twice as late each time up to the longest, and starts over after a success', () => {
    const clock = new FakeClock()
    const backoff = new Backoff(clock, 1000, 4000)
    const ran: number[] = []
    const start = clock.now().getTime()
    const failAgain = () => {
      ran.push(clock.now().getTime() - start)
      if (ran.length < 4) backoff.schedule(failAgain)
    }
    assert.equal(backoff.fresh, true)
    backoff.schedule(failAgain)
    assert.equal(backoff.fresh, false)
    assert.equal(backoff.pending, true)
    clock.advance(1000 + 2000 + 4000 + 4000)
    assert.deepEqual(ran, [1000, 3000, 7000, 11000])
    assert.equal(backoff.pending, false)
    backoff.succeeded()
    assert.equal(backoff.fresh, true)
    backoff.schedule(() => ran.push(-1))
    clock.advance(999)
    assert.equal(ran.length, 4)
    clock.advance(1)
    assert.equal(ran.at(-1), -1)
  })

  test('cancel drops the pending retry; a new schedule replaces the old one', () => {
    const clock = new FakeClock()
    const backoff = new Backoff(clock, 100, 1000)
    let runs = 0
    backoff.schedule(() => runs++)
    backoff.cancel()
    assert.equal(backoff.pending, false)
    clock.advance(10_000)
    assert.equal(runs, 0)
    backoff.schedule(() => (runs += 10))
    backoff.schedule(() => (runs += 100))
    clock.advance(10_000)
    assert.equal(runs, 100)
  })
})
