import assert from 'node:assert/strict'
import {describe, test} from 'node:test'
import {ScreenTap} from '../../../../../src/daemon/node/session/screen-tap.js'

// The screen a joining party is shown first: what a terminal would show after the session's
// output so far, full-screen programs included; bounded work when output floods.

const out = (tap: ScreenTap, text: string) => tap.onOutput(Buffer.from(text))

describe('ScreenTap', () => {
  test('no terminal, no screen', async () => {
    const tap = new ScreenTap()
    tap.onStart({})
    out(tap, 'ignored')
    assert.equal(await tap.snapshot(), '')
  })

  test('the lines printed so far, with everything written before the snapshot applied', async () => {
    const tap = new ScreenTap()
    tap.onStart({terminal: {cols: 40, rows: 5}})
    out(tap, '$ echo one\r\none\r\n$ ')
    assert.equal(await tap.snapshot(), '$ echo one\r\none\r\n$ ')
  })

  test('a full-screen program: the alternate screen with its text where it was drawn, after a resize', async () => {
    const tap = new ScreenTap()
    tap.onStart({terminal: {cols: 40, rows: 5}})
    out(tap, 'prompt$ top\r\n')
    tap.onResize({cols: 60, rows: 10})
    out(tap, '\x1b[?1049h\x1b[H\x1b[2J\x1b[3;7HTOP-HEADER')
    const screen = await tap.snapshot()
    assert.match(screen, /^prompt\$ top/)
    assert.match(screen, /\x1b\[\?1049h\x1b\[H\r\n\r\n\x1b\[6CTOP-HEADER$/)
  })

  test('a flood beyond the backlog is skipped, and the screen starts again clean', async () => {
    const tap = new ScreenTap()
    tap.onStart({terminal: {cols: 80, rows: 5}})
    const line = 'x'.repeat(78) + '\r\n'
    for (let i = 0; i < 20_000; i++) out(tap, line) // 1.6 MB at once: more than xterm is given
    out(tap, 'SKIPPED')
    await tap.snapshot() // the backlog parsed
    out(tap, 'CLEAN')
    const screen = await tap.snapshot()
    assert.equal(screen, 'CLEAN')
  })
})
