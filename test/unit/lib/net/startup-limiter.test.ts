import assert from 'node:assert/strict'
import {EventEmitter} from 'node:events'
import {describe, test} from 'node:test'
import {FakeClock} from '../../../../src/lib/clock.js'
import {StartupLimiter} from '../../../../src/lib/net/startup-limiter.js'

// The limiter's deadline is a timer on the clock seam: a FakeClock moves it, nothing sleeps.

class FakeSocket extends EventEmitter {
  destroyed = false
  destroy(): void {
    if (this.destroyed) return
    this.destroyed = true
    this.emit('close')
  }
}

function logger() {
  const lines: string[] = []
  return {lines, warn: (m: string) => void lines.push(`WARN ${m}`), debug: (m: string) => void lines.push(`DEBUG ${m}`)}
}

describe('StartupLimiter', () => {
  test('caps pending connections per source: the excess is closed at once; others are still let in', () => {
    const log = logger()
    const limiter = new StartupLimiter('test', log, {maxPerSource: 3, maxTotal: 100})
    const sockets = Array.from({length: 5}, () => new FakeSocket())
    const admitted = sockets.map((s) => limiter.admit(s, '10.0.0.1'))
    assert.deepEqual(admitted, [true, true, true, false, false])
    assert.deepEqual(sockets.map((s) => s.destroyed), [false, false, false, true, true])
    assert.equal(limiter.admit(new FakeSocket(), '10.0.0.2'), true)
    assert.equal(log.lines.filter((l) => l.startsWith('WARN')).length, 1, 'a flood is logged once per interval')
    assert.match(log.lines[0]!, /^WARN test: refused 1 connection\(s\) over the limit .*from 10\.0\.0\.1, which has 3 of 3/)
  })

  test('caps pending connections in total', () => {
    const limiter = new StartupLimiter('test', logger(), {maxPerSource: 10, maxTotal: 4})
    const results = Array.from({length: 6}, (_, i) => limiter.admit(new FakeSocket(), `10.0.0.${i}`))
    assert.deepEqual(results, [true, true, true, true, false, false])
    assert.equal(limiter.size, 4)
  })

  test('an authenticated or closed connection no longer counts, and frees its place', () => {
    const clock = new FakeClock()
    const limiter = new StartupLimiter('test', logger(), {maxPerSource: 2, maxTotal: 100}, clock)
    const [a, b, c] = [new FakeSocket(), new FakeSocket(), new FakeSocket()]
    assert.ok(limiter.admit(a, 'x') && limiter.admit(b, 'x'))
    limiter.authenticated(a)
    b.destroy()
    assert.equal(limiter.size, 0)
    assert.ok(limiter.admit(c, 'x'))
    clock.advance(60_000)
    assert.equal(a.destroyed, false, 'no deadline once authenticated')
    assert.equal(c.destroyed, true)
  })

  test('a connection that does not authenticate within the grace time is closed', () => {
    const log = logger()
    const clock = new FakeClock()
    const limiter = new StartupLimiter('test', log, {graceMs: 5_000}, clock)
    const socket = new FakeSocket()
    limiter.admit(socket, 'x')
    clock.advance(4_999)
    assert.equal(socket.destroyed, false)
    clock.advance(1)
    assert.equal(socket.destroyed, true)
    assert.equal(limiter.size, 0)
    assert.match(log.lines.at(-1)!, /^DEBUG test: closing a connection from x that did not authenticate within 5 s$/)
  })

  test('a connection a proxy vouched for is no longer counted, and keeps its deadline', () => {
    const clock = new FakeClock()
    const limiter = new StartupLimiter('test', logger(), {maxPerSource: 2, maxTotal: 3, graceMs: 5_000}, clock)
    const relayed = Array.from({length: 10}, () => new FakeSocket())
    for (const socket of relayed) {
      assert.ok(limiter.admit(socket, 'proxy'), 'neither the proxy address nor the total fills up')
      limiter.vouched(socket)
    }
    assert.equal(limiter.size, 0)
    const direct = [new FakeSocket(), new FakeSocket(), new FakeSocket()]
    assert.deepEqual(direct.map((s) => limiter.admit(s, 'proxy')), [true, true, false], 'unvouched ones still count')
    clock.advance(5_000)
    assert.deepEqual(relayed.map((s) => s.destroyed), relayed.map(() => true), 'closed at the deadline all the same')
    assert.equal(limiter.size, 0)
  })

  test('refusals are logged again after the interval, with the count in between', () => {
    const log = logger()
    const clock = new FakeClock()
    const limiter = new StartupLimiter('test', log, {maxPerSource: 0}, clock)
    for (let i = 0; i < 5; i++) limiter.admit(new FakeSocket(), 'x')
    clock.advance(60_000)
    limiter.admit(new FakeSocket(), 'x')
    assert.deepEqual(log.lines.map((l) => /refused (\d+)/.exec(l)?.[1]), ['1', '5'])
  })
})
