import assert from 'node:assert/strict'
import {EventEmitter} from 'node:events'
import {describe, test} from 'node:test'
import {FakeClock} from '../../../../src/lib/clock.js'
import {Spinner, withSpinner, type InterruptSource} from '../../../../src/lib/progress/spinner.js'
import {progressMode} from '../../../../src/lib/progress/status-line.js'

// A terminal as the spinner sees it: what was written, in order, and the line as a terminal would
// show it after \r and erase-line.
class FakeTty {
  written: string[] = []
  isTTY: boolean
  columns = 40
  constructor(isTTY = true) {
    this.isTTY = isTTY
  }
  write(chunk: string | Uint8Array): boolean {
    this.written.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString())
    return true
  }
  get all(): string {
    return this.written.join('')
  }
  /** The screen's lines: \r returns to the line's start, ESC[K erases the rest of it. */
  get screen(): string[] {
    const lines = ['']
    let col = 0
    const text = this.all
    for (let i = 0; i < text.length; i++) {
      const c = text[i]!
      if (text.startsWith('\x1b[K', i)) {
        lines[lines.length - 1] = lines.at(-1)!.slice(0, col)
        i += 2
      } else if (c === '\r') col = 0
      else if (c === '\n') {
        lines.push('')
        col = 0
      } else {
        const l = lines.at(-1)!
        lines[lines.length - 1] = l.slice(0, col) + c + l.slice(col + 1)
        col++
      }
    }
    return lines
  }
}

class FakeSignals extends EventEmitter implements InterruptSource {
  pid = 4242
  kills: string[] = []
  kill(_pid: number, signal: 'SIGINT'): boolean {
    this.kills.push(signal)
    return true
  }
}

const env = {TERM: 'xterm'}

function setUp(options: {isTTY?: boolean; env?: NodeJS.ProcessEnv} = {}) {
  const tty = new FakeTty(options.isTTY ?? true)
  const stdout = new FakeTty(true)
  const clock = new FakeClock()
  const signals = new FakeSignals()
  const spinnerOptions = {stream: tty, guarded: [tty, stdout], clock, env: options.env ?? env, signals}
  return {tty, stdout, clock, signals, spinnerOptions}
}

describe('progressMode', () => {
  test('off without a terminal, plain with NO_COLOR or TERM=dumb, animated otherwise', () => {
    assert.equal(progressMode({write: () => true}, env), 'off')
    assert.equal(progressMode({write: () => true, isTTY: true}, env), 'animated')
    assert.equal(progressMode({write: () => true, isTTY: true}, {NO_COLOR: '1'}), 'plain')
    assert.equal(progressMode({write: () => true, isTTY: true}, {NO_COLOR: ''}), 'animated')
    assert.equal(progressMode({write: () => true, isTTY: true}, {TERM: 'dumb'}), 'plain')
  })
})

describe('Spinner', () => {
  test('nothing before 300 ms, then frames on one line, and the line erased at stop', () => {
    const {tty, clock, spinnerOptions} = setUp()
    const spinner = new Spinner('waiting for the proxy', spinnerOptions)
    clock.advance(299)
    assert.equal(tty.all, '')
    clock.advance(1)
    assert.deepEqual(tty.screen, ['- waiting for the proxy'])
    clock.advance(100)
    assert.deepEqual(tty.screen, ['\\ waiting for the proxy'])
    spinner.update('3 of 10 done')
    clock.advance(100)
    assert.deepEqual(tty.screen, ['| 3 of 10 done'])
    spinner.stop()
    assert.deepEqual(tty.screen, [''])
    const before = tty.written.length
    clock.advance(1000)
    assert.equal(tty.written.length, before, 'no frames after stop')
    assert.equal(clock.pendingTimers, 0)
  })

  test('quick work shows nothing at all', async () => {
    const {tty, clock, spinnerOptions} = setUp()
    assert.equal(await withSpinner('pinging', async () => 'pong', spinnerOptions), 'pong')
    clock.advance(5000)
    assert.equal(tty.all, '')
  })

  test('another write to stderr or stdout erases the line first; drawn again under it', () => {
    const {tty, stdout, clock, spinnerOptions} = setUp()
    const spinner = new Spinner('joining', spinnerOptions)
    clock.advance(300)
    tty.write('INFO a log line\n')
    assert.deepEqual(tty.screen, ['INFO a log line', ''], 'the spinner is erased before the log line')
    clock.advance(100)
    assert.deepEqual(tty.screen, ['INFO a log line', '\\ joining'])
    stdout.write('[node-1] hello\n')
    assert.ok(tty.all.endsWith('\r\x1b[K'), 'stdout output comes after the spinner was erased on stderr')
    spinner.stop()
    assert.deepEqual(tty.screen, ['INFO a log line', ''])
  })

  test('output that has not ended its line (a prompt) is not drawn over', () => {
    const {tty, clock, spinnerOptions} = setUp()
    const spinner = new Spinner('logging in', spinnerOptions)
    clock.advance(300)
    tty.write('Enter password: ')
    clock.advance(500)
    assert.deepEqual(tty.screen, ['Enter password: '])
    tty.write('\n')
    clock.advance(100)
    assert.match(tty.screen.at(-1)!, /logging in$/)
    spinner.stop()
  })

  test('the streams get their own write back after stop', () => {
    const {tty, stdout, spinnerOptions} = setUp()
    const ownWrite = FakeTty.prototype.write
    const spinner = new Spinner('x', spinnerOptions)
    assert.notEqual(tty.write, ownWrite)
    spinner.stop()
    assert.equal(tty.write, ownWrite)
    assert.equal(stdout.write, ownWrite)
    assert.ok(!Object.prototype.hasOwnProperty.call(tty, 'write'))
  })

  test('stops when the work fails, and the error passes through', async () => {
    const {tty, clock, spinnerOptions} = setUp()
    await assert.rejects(
      withSpinner('rotating', async () => {
        clock.advance(400)
        assert.match(tty.screen[0]!, /rotating/)
        throw new Error('auth is away')
      }, spinnerOptions),
      /auth is away/,
    )
    assert.deepEqual(tty.screen, [''])
    assert.equal(clock.pendingTimers, 0)
  })

  test('Ctrl-C erases the line and, with no one else listening, raises SIGINT again', () => {
    const {tty, clock, signals, spinnerOptions} = setUp()
    new Spinner('waiting', spinnerOptions)
    clock.advance(300)
    signals.emit('SIGINT')
    assert.deepEqual(tty.screen, [''])
    assert.deepEqual(signals.kills, ['SIGINT'])
    assert.equal(signals.listenerCount('SIGINT'), 0)
    clock.advance(1000)
    assert.deepEqual(tty.screen, [''])
  })

  test('Ctrl-C with the program listening itself: erased, the program decides', () => {
    const {tty, clock, signals, spinnerOptions} = setUp()
    signals.on('SIGINT', () => {})
    new Spinner('waiting', spinnerOptions)
    clock.advance(300)
    signals.emit('SIGINT')
    assert.deepEqual(tty.screen, [''])
    assert.deepEqual(signals.kills, [])
  })

  test('not a terminal: no output, no timers, no patched streams, no signal listener', () => {
    const {tty, clock, signals, spinnerOptions} = setUp({isTTY: false})
    const spinner = new Spinner('waiting', spinnerOptions)
    assert.equal(clock.pendingTimers, 0)
    assert.equal(signals.listenerCount('SIGINT'), 0)
    assert.ok(!Object.prototype.hasOwnProperty.call(tty, 'write'))
    clock.advance(10_000)
    spinner.stop()
    assert.equal(tty.all, '')
  })

  for (const [name, e] of [['NO_COLOR', {NO_COLOR: '1', TERM: 'xterm'}], ['TERM=dumb', {TERM: 'dumb'}]] as const) {
    test(`${name}: the text once as a plain line, no \\r, no escape codes`, () => {
      const {tty, clock, spinnerOptions} = setUp({env: e})
      const spinner = new Spinner('generating host keys…', spinnerOptions)
      clock.advance(299)
      assert.equal(tty.all, '')
      clock.advance(5000)
      spinner.update('something else')
      clock.advance(5000)
      spinner.stop()
      assert.equal(tty.all, 'generating host keys…\n')
    })
  }
})
