import assert from 'node:assert/strict'
import {describe, test} from 'node:test'
import {FakeClock} from '../../../src/lib/clock.js'

describe('FakeClock', () => {
  test('timers fire in order, each at its own time, as the clock moves', () => {
    const clock = new FakeClock(0)
    const fired: string[] = []
    clock.setTimer(30, () => fired.push(`b@${clock.now().getTime()}`))
    clock.setTimer(10, () => fired.push(`a@${clock.now().getTime()}`))
    const every = clock.setRepeating(25, () => fired.push(`r@${clock.now().getTime()}`))
    clock.advance(9)
    assert.deepEqual(fired, [])
    clock.advance(51)
    assert.deepEqual(fired, ['a@10', 'r@25', 'b@30', 'r@50'])
    assert.equal(clock.now().getTime(), 60)
    every.cancel()
    clock.advance(100)
    assert.equal(fired.length, 4)
    assert.equal(clock.pendingTimers, 0)
  })

  test('a cancelled timer never fires', () => {
    const clock = new FakeClock(0)
    let fired = false
    clock.setTimer(5, () => (fired = true)).cancel()
    clock.advance(10)
    assert.equal(fired, false)
  })

  test('sleep resolves when time reaches it, and an abort rejects it', async () => {
    const clock = new FakeClock(0)
    let woke = false
    const sleeping = clock.sleep(1000).then(() => (woke = true))
    await clock.advanceAsync(999)
    assert.equal(woke, false)
    await clock.advanceAsync(1)
    await sleeping
    assert.equal(woke, true)
    const abort = new AbortController()
    const aborted = clock.sleep(1000, abort.signal)
    abort.abort(new Error('stopped'))
    await assert.rejects(aborted, /stopped/)
    assert.equal(clock.pendingTimers, 0)
  })

  test('advanceAsync lets work a timer starts schedule its next step before time passes it', async () => {
    const clock = new FakeClock(0)
    const at: number[] = []
    const loop = async () => {
      for (let i = 0; i < 3; i++) {
        await clock.sleep(100)
        at.push(clock.now().getTime())
      }
    }
    const done = loop()
    await clock.advanceAsync(350)
    await done
    assert.deepEqual(at, [100, 200, 300])
  })
})
