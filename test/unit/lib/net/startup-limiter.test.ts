import assert from 'node:assert/strict'
import {EventEmitter} from 'node:events'
import {describe, test} from 'node:test'
import {FakeClock} from '../../../../src/lib/clock.js'
import {StartupLimiter} from '../../../../src/lib/net/startup-limiter.js'

// The limiter's deadline is a timer on the clock seam: a FakeClock moves it, nothing sleeps.

class FakeSocket extends EventEmitter {
  destroyed = false
  /** The limiter let its handshake begin. */
  started = false
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

function admit(limiter: StartupLimiter, socket: FakeSocket, source: string): boolean {
  return limiter.admit(socket, source, () => (socket.started = true))
}

const sockets = (n: number) => Array.from({length: n}, () => new FakeSocket())
const states = (list: FakeSocket[]) => list.map((s) => (s.destroyed ? 'closed' : s.started ? 'started' : 'waiting'))

describe('StartupLimiter', () => {
  test('past the per-source cap a connection waits, and starts when a place frees, oldest first', () => {
    const limiter = new StartupLimiter('test', logger(), {maxPerSource: 2, maxTotal: 100})
    const all = sockets(5)
    assert.deepEqual(all.map((s) => admit(limiter, s, '10.0.0.1')), [true, true, true, true, true])
    assert.deepEqual(states(all), ['started', 'started', 'waiting', 'waiting', 'waiting'])
    assert.equal(limiter.waitingCount, 3)
    const other = new FakeSocket()
    assert.ok(admit(limiter, other, '10.0.0.2') && other.started, 'another source does not wait behind this one')
    limiter.authenticated(all[0]!)
    assert.deepEqual(states(all), ['started', 'started', 'started', 'waiting', 'waiting'])
    all[1]!.destroy()
    assert.deepEqual(states(all), ['started', 'closed', 'started', 'started', 'waiting'])
    limiter.authenticated(all[2]!)
    limiter.authenticated(all[3]!)
    assert.deepEqual(states(all), ['started', 'closed', 'started', 'started', 'started'])
    assert.equal(limiter.waitingCount, 0)
  })

  test('past the total cap connections wait; a freed place goes to the oldest waiting source with room', () => {
    const limiter = new StartupLimiter('test', logger(), {maxPerSource: 2, maxTotal: 3})
    const [a1, a2, b1, a3, c1] = sockets(5)
    admit(limiter, a1!, 'a')
    admit(limiter, a2!, 'a')
    admit(limiter, b1!, 'b')
    admit(limiter, a3!, 'a')
    admit(limiter, c1!, 'c')
    assert.deepEqual(states([a1!, a2!, b1!, a3!, c1!]), ['started', 'started', 'started', 'waiting', 'waiting'])
    limiter.authenticated(b1!)
    assert.deepEqual(states([a3!, c1!]), ['waiting', 'started'], 'a is at its own cap: c, behind it, starts')
    assert.equal(limiter.size, 3)
  })

  test('past the waiting caps a connection is closed at once, and the refusals are logged once per interval', () => {
    const log = logger()
    const limiter = new StartupLimiter('test', log, {maxPerSource: 1, maxTotal: 100, maxWaitingPerSource: 2, maxWaiting: 3})
    const flood = sockets(6)
    assert.deepEqual(flood.map((s) => admit(limiter, s, 'x')), [true, true, true, false, false, false])
    assert.deepEqual(states(flood), ['started', 'waiting', 'waiting', 'closed', 'closed', 'closed'])
    const [y1, y2, y3] = sockets(3)
    assert.ok(admit(limiter, y1!, 'y') && y1!.started, 'another source still gets in')
    assert.ok(admit(limiter, y2!, 'y'), 'and may wait')
    assert.equal(admit(limiter, y3!, 'y'), false, 'until the listener-wide waiting cap')
    assert.deepEqual([limiter.size, limiter.waitingCount], [2, 3], 'the flood holds no more than its caps')
    const warnings = log.lines.filter((l) => l.startsWith('WARN'))
    assert.equal(warnings.length, 1)
    assert.match(warnings[0]!, /^WARN test: refused 1 connection\(s\) over the limit of unauthenticated connections \(latest from x, which has 1 of 1 in their handshake and 2 of 2 waiting; 1 of 100 and 2 of 3 in all\)$/)
  })

  test("a waiting connection's deadline runs from accept, not from its start", () => {
    const clock = new FakeClock()
    const limiter = new StartupLimiter('test', logger(), {maxPerSource: 1, graceMs: 5_000}, clock)
    const [first, second] = sockets(2)
    admit(limiter, first!, 'x')
    clock.advance(3_000)
    admit(limiter, second!, 'x')
    clock.advance(1_000)
    limiter.authenticated(first!)
    assert.deepEqual(states([first!, second!]), ['started', 'started'])
    clock.advance(3_999)
    assert.equal(second!.destroyed, false)
    clock.advance(1)
    assert.equal(second!.destroyed, true, 'closed 5 s after accept, 4 s after its handshake began')
    assert.deepEqual([limiter.size, limiter.waitingCount], [0, 0])
  })

  test('a waiting connection that goes away frees its waiting place', () => {
    const limiter = new StartupLimiter('test', logger(), {maxPerSource: 1, maxWaitingPerSource: 1})
    const [a, b, c] = sockets(3)
    admit(limiter, a!, 'x')
    admit(limiter, b!, 'x')
    assert.equal(admit(limiter, c!, 'x'), false)
    b!.destroy()
    assert.equal(limiter.waitingCount, 0)
    assert.ok(admit(limiter, new FakeSocket(), 'x'))
  })

  test('an authenticated or closed connection no longer counts, and frees its place', () => {
    const clock = new FakeClock()
    const limiter = new StartupLimiter('test', logger(), {maxPerSource: 2, maxTotal: 100}, clock)
    const [a, b, c] = sockets(3)
    assert.ok(admit(limiter, a!, 'x') && admit(limiter, b!, 'x'))
    limiter.authenticated(a!)
    b!.destroy()
    assert.equal(limiter.size, 0)
    assert.ok(admit(limiter, c!, 'x') && c!.started)
    clock.advance(60_000)
    assert.equal(a!.destroyed, false, 'no deadline once authenticated')
    assert.equal(c!.destroyed, true)
  })

  test('a connection that does not authenticate within the grace time is closed', () => {
    const log = logger()
    const clock = new FakeClock()
    const limiter = new StartupLimiter('test', log, {graceMs: 5_000}, clock)
    const socket = new FakeSocket()
    admit(limiter, socket, 'x')
    clock.advance(4_999)
    assert.equal(socket.destroyed, false)
    clock.advance(1)
    assert.equal(socket.destroyed, true)
    assert.equal(limiter.size, 0)
    assert.match(log.lines.at(-1)!, /^DEBUG test: closing a connection from x that did not authenticate within 5 s$/)
  })

  test('a connection a proxy vouched for is no longer counted, and keeps its deadline', () => {
    const clock = new FakeClock()
    const limiter = new StartupLimiter('test', logger(), {maxPerSource: 2, maxTotal: 3, maxWaitingPerSource: 0, graceMs: 5_000}, clock)
    const relayed = sockets(10)
    for (const socket of relayed) {
      assert.ok(admit(limiter, socket, 'proxy') && socket.started, 'neither the proxy address nor the total fills up')
      limiter.vouched(socket)
    }
    assert.equal(limiter.size, 0)
    const direct = sockets(3)
    assert.deepEqual(direct.map((s) => admit(limiter, s, 'proxy')), [true, true, false], 'unvouched ones still count')
    clock.advance(5_000)
    assert.deepEqual(relayed.map((s) => s.destroyed), relayed.map(() => true), 'closed at the deadline all the same')
    assert.equal(limiter.size, 0)
  })

  test('vouching for a connection lets a waiting one start', () => {
    const limiter = new StartupLimiter('test', logger(), {maxPerSource: 1})
    const [relayed, next] = sockets(2)
    admit(limiter, relayed!, 'proxy')
    admit(limiter, next!, 'proxy')
    assert.equal(next!.started, false)
    limiter.vouched(relayed!)
    assert.equal(next!.started, true)
  })

  test('refusals are logged again after the interval, with the count in between', () => {
    const log = logger()
    const clock = new FakeClock()
    const limiter = new StartupLimiter('test', log, {maxPerSource: 0, maxWaitingPerSource: 0}, clock)
    for (let i = 0; i < 5; i++) admit(limiter, new FakeSocket(), 'x')
    clock.advance(60_000)
    admit(limiter, new FakeSocket(), 'x')
    assert.deepEqual(log.lines.map((l) => /refused (\d+)/.exec(l)?.[1]), ['1', '5'])
  })

  test('closeAll closes waiting connections too', () => {
    const limiter = new StartupLimiter('test', logger(), {maxPerSource: 1})
    const all = sockets(3)
    for (const s of all) admit(limiter, s, 'x')
    limiter.closeAll()
    assert.deepEqual(states(all), ['closed', 'closed', 'closed'])
    assert.equal(all.filter((s) => s.started).length, 1, 'closing the started one did not start a waiting one')
    assert.deepEqual([limiter.size, limiter.waitingCount], [0, 0])
  })
})
