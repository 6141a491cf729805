import assert from 'node:assert/strict'
import {EventEmitter} from 'node:events'
import {PassThrough} from 'node:stream'
import {describe, test} from 'node:test'
import {RESTORE_TERMINAL} from '../../../../src/client/play/escapes.js'
import {Player} from '../../../../src/client/play/player.js'
import {playOnTerminal} from '../../../../src/client/play/terminal.js'
import type {RecordingSource} from '../../../../src/client/recordings/source.js'
import {RecordingDamagedError} from '../../../../src/events/recording/index.js'
import {FakeClock} from '../../../../src/lib/clock.js'
import {arraySource, print, Screen, start} from './helpers.js'

// The player on a terminal: keys from stdin in raw mode, and the terminal given back (raw mode
// off, cursor shown) however it ends.

function terminal(tty = true) {
  const clock = new FakeClock(0)
  const stdin = Object.assign(new PassThrough(), {isTTY: tty, rawModes: [] as boolean[], setRawMode(mode: boolean) {
    stdin.rawModes.push(mode)
    return stdin
  }})
  const stdout = Object.assign(new Screen(clock), {isTTY: true})
  const signals = new EventEmitter()
  return {clock, stdin, stdout, signals}
}

const long = [start(0), print(0, 'a'), print(60_000, 'b')]

describe('tsh play on a terminal', () => {
  test('q typed on the terminal quits; raw mode was on while playing and is off after, the cursor shown', async () => {
    const t = terminal()
    const player = new Player({source: arraySource(long), out: t.stdout, clock: t.clock})
    const done = playOnTerminal(player, t)
    await t.clock.advanceAsync(100)
    assert.deepEqual(t.stdin.rawModes, [true])
    t.stdin.write('q')
    assert.equal(await done, 'quit')
    assert.deepEqual(t.stdin.rawModes, [true, false])
    assert.ok(t.stdout.text.endsWith(RESTORE_TERMINAL))
    assert.equal(t.stdin.listenerCount('data'), 0)
    assert.equal(t.stdout.when('b'), undefined)
  })

  test('space typed on the terminal pauses', async () => {
    const t = terminal()
    const player = new Player({source: arraySource(long), out: t.stdout, clock: t.clock})
    const done = playOnTerminal(player, t)
    await t.clock.advanceAsync(100)
    t.stdin.write(' ')
    await t.clock.advanceAsync(120_000)
    assert.equal(t.stdout.when('b'), undefined)
    t.stdin.write('\x03')
    assert.equal(await done, 'quit')
  })

  test('SIGTERM quits and gives the terminal back; the handlers are removed', async () => {
    const t = terminal()
    const player = new Player({source: arraySource(long), out: t.stdout, clock: t.clock})
    const done = playOnTerminal(player, t)
    await t.clock.advanceAsync(100)
    t.signals.emit('SIGTERM')
    assert.equal(await done, 'quit')
    assert.deepEqual(t.stdin.rawModes, [true, false])
    assert.equal(t.signals.listenerCount('SIGTERM') + t.signals.listenerCount('SIGINT'), 0)
  })

  test('an error (damage) gives the terminal back too, and its line starts on a line of its own', async () => {
    const t = terminal()
    const damaged: RecordingSource = {
      name: 'bad.tsrec',
      async from() {
        return {events: (async function* () {
          yield start(0)
          yield print(0, 'partial')
          throw new RecordingDamagedError('bad.tsrec', 120, 2, 'the chunk is cut short')
        })()}
      },
      async close() {},
    }
    const done = playOnTerminal(new Player({source: damaged, out: t.stdout, clock: t.clock}), t)
    await assert.rejects(done, RecordingDamagedError)
    assert.deepEqual(t.stdin.rawModes, [true, false])
    assert.ok(t.stdout.text.endsWith(`partial\r\n${RESTORE_TERMINAL}`), JSON.stringify(t.stdout.text))
  })

  test('stdin that is not a terminal: no raw mode, plays to the end', async () => {
    const t = terminal(false)
    const done = playOnTerminal(new Player({source: arraySource(long), out: t.stdout, clock: t.clock}), t)
    await t.clock.advanceAsync(60_000)
    assert.equal(await done, 'end')
    assert.deepEqual(t.stdin.rawModes, [])
    assert.equal(t.stdout.when('b'), 60_000)
  })
})
