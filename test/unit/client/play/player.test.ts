import assert from 'node:assert/strict'
import {truncate, stat} from 'node:fs/promises'
import {describe, test} from 'node:test'
import {Player, type PlayerOptions} from '../../../../src/client/play/player.js'
import {RESET_SCREEN} from '../../../../src/client/play/escapes.js'
import {fileSource} from '../../../../src/client/recordings/source.js'
import {RecordingDamagedError, type RecordedEvent} from '../../../../src/events/recording/index.js'
import {FakeClock} from '../../../../src/lib/clock.js'
import {withTempDir} from '../../events/recording/temp-recording.js'
import {poll} from '../../../helpers/eventually.js'
import {arraySource, print, recordFile, resize, Screen, start} from './helpers.js'

// The pty player on a FakeClock: output comes when it is due (scaled by --speed, idle gaps cut
// by --skip-idle-time), resizes as xterm's CSI 8, and keys pause, step and quit.

function playing(events: RecordedEvent[], options: Partial<PlayerOptions> = {}) {
  const clock = new FakeClock(0)
  const screen = new Screen(clock)
  const source = arraySource(events)
  const player = new Player({source, out: screen, clock, ...options})
  const done = player.run()
  return {clock, screen, source, player, done}
}

const abc = [start(0), print(0, 'a'), print(1000, 'b'), print(3500, 'c')]

describe('tsh play: timing', () => {
  test('each print comes at its time in the recording, not before', async () => {
    const {clock, screen, done} = playing(abc)
    await clock.advanceAsync(0)
    assert.equal(screen.when('a'), 0)
    await clock.advanceAsync(999)
    assert.equal(screen.when('b'), undefined, 'b is not shown early')
    await clock.advanceAsync(1)
    assert.equal(screen.when('b'), 1000)
    await clock.advanceAsync(2500)
    assert.equal(screen.when('c'), 3500)
    assert.equal(await done, 'end')
  })

  test('--speed 2 halves the waits, --speed 0.5 doubles them', async () => {
    const fast = playing(abc, {speed: 2})
    await fast.clock.advanceAsync(10_000)
    assert.equal(await fast.done, 'end')
    assert.deepEqual([fast.screen.when('b'), fast.screen.when('c')], [500, 1750])
    const slow = playing(abc, {speed: 0.5})
    await slow.clock.advanceAsync(10_000)
    assert.equal(await slow.done, 'end')
    assert.deepEqual([slow.screen.when('b'), slow.screen.when('c')], [2000, 7000])
  })

  test('--skip-idle-time shrinks gaps over a second to one second; shorter gaps keep their length', async () => {
    const events = [start(0), print(0, 'a'), print(600_000, 'b'), print(600_400, 'c'), print(603_000, 'd')]
    const {clock, screen, done} = playing(events, {skipIdleTime: true})
    await clock.advanceAsync(5000)
    assert.equal(await done, 'end')
    assert.deepEqual(['b', 'c', 'd'].map((t) => screen.when(t)), [1000, 1400, 2400])
  })

  test('gaps under 10 ms play at once, and the time they add up to is not lost', async () => {
    const events = [start(0), ...Array.from({length: 10}, (_, i) => print(i * 4, `p${i};`))]
    const {clock, screen, done} = playing(events)
    await clock.advanceAsync(0)
    assert.ok(screen.text.includes('p0;p1;p2;'), 'the first prints came with no timer')
    await clock.advanceAsync(100)
    assert.equal(await done, 'end')
    // p9 is due at 36 ms: shown no earlier than 10 ms before that, and not after.
    const p9 = screen.when('p9;')!
    assert.ok(p9 >= 26 && p9 <= 36, `p9 at ${p9} ms`)
  })

  test('session.start sets the terminal size and resizes follow, as ESC[8;rows;cols t', async () => {
    const {clock, screen, done} = playing([start(0, '80:25'), print(0, 'x'), resize(500, '132:43')])
    await clock.advanceAsync(1000)
    assert.equal(await done, 'end')
    assert.equal(screen.text, '\x1b[8;25;80tx\x1b[8;43;132t')
  })
})

describe('tsh play: keys', () => {
  test('space pauses (nothing more is shown however long), space again resumes with the rest of the wait', async () => {
    const {clock, screen, player, done} = playing(abc)
    await clock.advanceAsync(400)
    player.command('pause')
    await clock.advanceAsync(60_000)
    assert.equal(screen.when('b'), undefined, 'nothing plays while paused')
    player.command('pause')
    await clock.advanceAsync(599)
    assert.equal(screen.when('b'), undefined)
    await clock.advanceAsync(1)
    assert.equal(screen.when('b'), 60_000 + 1000)
    await clock.advanceAsync(10_000)
    assert.equal(await done, 'end')
  })

  test('→ shows the next 10 s at once, then plays on with the timing from there', async () => {
    const events = [...abc, print(12_000, 'd'), print(25_000, 'e')]
    const {clock, screen, player, done} = playing(events)
    await clock.advanceAsync(100)
    player.command('forward')
    await clock.advanceAsync(0)
    assert.deepEqual([screen.when('b'), screen.when('c')], [100, 100], 'b and c, within 10 s, came at once')
    assert.equal(screen.when('d'), undefined)
    await clock.advanceAsync(2000)
    assert.equal(screen.when('d'), 2100, 'd is 2 s after the 10 s mark')
    player.command('forward')
    player.command('forward')
    await clock.advanceAsync(0)
    assert.equal(screen.when('e'), 2100, 'two steps reach past e')
    assert.equal(await done, 'end')
  })

  test('← resets the screen, reads again from 10 s earlier with the terminal size in effect there, and plays on', async () => {
    const events = [start(0), print(0, 'a'), resize(1000, '100:30'), print(3500, 'c'), print(12_000, 'd'), print(14_000, 'f')]
    const {clock, screen, source, player, done} = playing(events)
    await clock.advanceAsync(12_000)
    assert.equal(screen.when('d'), 12_000)
    player.command('back')
    await clock.advanceAsync(0)
    assert.deepEqual(source.reads, [0, 2000])
    const after = screen.text.slice(screen.text.indexOf('d') + 1)
    assert.ok(after.startsWith(`${RESET_SCREEN}\x1b[8;30;100t`), JSON.stringify(after))
    await clock.advanceAsync(1500)
    assert.equal(screen.writes.filter((w) => w.text === 'c').length, 2, 'c (at 3.5 s) plays again, 1.5 s after the step back')
    assert.equal(screen.writes.at(-1)!.at, 13_500)
    await clock.advanceAsync(20_000)
    assert.equal(await done, 'end')
  })

  test('← near the start goes back to 0 and replays session.start', async () => {
    const {clock, screen, source, player, done} = playing(abc)
    await clock.advanceAsync(1000)
    player.command('back')
    await clock.advanceAsync(0)
    assert.deepEqual(source.reads, [0, 0])
    assert.equal(screen.text, `\x1b[8;25;80tab${RESET_SCREEN}\x1b[8;25;80ta`)
    player.command('quit')
    assert.equal(await done, 'quit')
  })

  test('quit in the middle of a wait ends at once, nothing more is shown', async () => {
    const {clock, screen, player, done} = playing(abc)
    await clock.advanceAsync(500)
    player.command('quit')
    assert.equal(await done, 'quit')
    await clock.advanceAsync(10_000)
    assert.equal(screen.when('b'), undefined)
    assert.equal(clock.pendingTimers, 0, 'no timer left behind')
  })

  test('quit while the next event has not arrived (a stalled download) ends at once', async () => {
    const clock = new FakeClock(0)
    const screen = new Screen(clock)
    const stalled = {
      name: 'stalled',
      async from() {
        return {events: (async function* () {
          yield start(0)
          await new Promise(() => {})
        })()}
      },
      async close() {},
    }
    const player = new Player({source: stalled, out: screen, clock})
    const done = player.run()
    await clock.advanceAsync(0)
    player.command('quit')
    assert.equal(await done, 'quit')
  })
})

describe('tsh play: a recording file', () => {
  test('plays a file with its timing, ← re-reads it from the earlier position', () => withTempDir(async (dir) => {
    const file = await recordFile(dir, [{at: 0, print: 'one '}, {at: 15_000, resize: '90:20'}, {at: 20_000, print: 'two '}, {at: 22_000, print: 'three'}])
    const clock = new FakeClock(0)
    const screen = new Screen(clock)
    const source = await fileSource(file)
    const player = new Player({source, out: screen, clock})
    const done = player.run()
    // The player reads the file (real I/O) before it sets the timer of the next event: wait for
    // the timer itself, however slow the read (a fixed number of turns was not enough under load).
    const waitForTimer = () => poll(() => clock.pendingTimers > 0, {intervalMs: 1})
    await waitForTimer()
    await clock.advanceAsync(20_000)
    await waitForTimer()
    assert.equal(screen.when('two'), 20_000)
    player.command('back')
    // The file is read again from 10 s (real I/O): wait for what that writes, not for a timer (the
    // wait before the step may still be pending).
    await poll(() => screen.text.endsWith(`two ${RESET_SCREEN}\x1b[8;25;80t`))
    await waitForTimer()
    assert.ok(screen.text.endsWith(`two ${RESET_SCREEN}\x1b[8;25;80t`), JSON.stringify(screen.text))
    await clock.advanceAsync(5000)
    await waitForTimer()
    assert.ok(screen.text.endsWith(`${RESET_SCREEN}\x1b[8;25;80t\x1b[8;20;90t`), 'the resize at 15 s plays 5 s after stepping back to 10 s')
    await clock.advanceAsync(7000)
    assert.equal(await done, 'end')
    assert.ok(screen.text.endsWith('two three'))
    await source.close()
  }))

  test('a damaged recording plays up to the damage, then fails saying where it stopped', () => withTempDir(async (dir) => {
    const file = await recordFile(dir, [{at: 0, print: 'intact '}, {at: 2000, print: 'lost'}])
    const size = (await stat(file)).size
    await truncate(file, size - 60)
    const clock = new FakeClock(0)
    const screen = new Screen(clock)
    const source = await fileSource(file)
    const done = new Player({source, out: screen, clock}).run()
    await assert.rejects(done, (err: Error) => {
      assert.ok(err instanceof RecordingDamagedError, String(err))
      assert.match(err.message, new RegExp(`recording ${file.replace(/[/.]/g, '\\$&')} is damaged at byte \\d+, after \\d+ event\\(s\\)`))
      return true
    })
    assert.ok(screen.text.includes('intact'))
    assert.ok(!screen.text.includes('lost'))
    await source.close()
  }))
})
