import assert from 'node:assert/strict'
import {describe, test} from 'node:test'
import {formatBytes, formatDuration, ProgressBar, renderProgress, withByteProgress} from '../../../../src/lib/progress/bar.js'

// The byte bar of tsh scp and tsh recordings download.

describe('progress bar', () => {
  test('units', () => {
    assert.equal(formatBytes(0), '0B')
    assert.equal(formatBytes(1023), '1023B')
    assert.equal(formatBytes(1536), '1.5KB')
    assert.equal(formatBytes(10 * 1024 * 1024), '10MB')
    assert.equal(formatBytes(150 * 1024 * 1024), '150MB')
    assert.equal(formatDuration(65), '01:05')
    assert.equal(formatDuration(3725), '01:02:05')
  })
  test('percentage, bytes, rate, ETA, in the terminal width', () => {
    const line = renderProgress({name: 'big.iso', transferred: 512 * 1024, total: 1024 * 1024, elapsedMs: 1000, columns: 60})
    assert.equal(line.length, 59)
    assert.match(line, /^big\.iso\s+50%\s+512KB\s+512KB\/s\s+00:01 ETA$/)
  })
  test('done: elapsed time instead of the ETA', () => {
    const line = renderProgress({name: 'f', transferred: 2048, total: 2048, elapsedMs: 2000, columns: 50, done: true})
    assert.match(line, /^f\s+100%\s+2KB\s+1KB\/s\s+00:02\s*$/)
  })
  test('empty file is 100%; no rate yet shows --:--', () => {
    assert.match(renderProgress({name: 'e', transferred: 0, total: 0, elapsedMs: 0, columns: 50}), /100%.*--:-- ETA/)
  })
  test('a long name is cut from the left, never wrapping', () => {
    const line = renderProgress({name: 'x'.repeat(200) + 'END', transferred: 1, total: 2, elapsedMs: 1000, columns: 80})
    assert.equal(line.length, 79)
    assert.match(line, /^\.\.\.x+END /)
  })
  test('no known total: bytes, rate and elapsed time, no percentage', () => {
    const line = renderProgress({name: 's.tsrec', transferred: 3 * 1024 * 1024, elapsedMs: 2000, columns: 60})
    assert.match(line, /^s\.tsrec\s+3MB\s+1\.5MB\/s\s+00:02\s*$/)
    assert.doesNotMatch(line, /%/)
  })
  test('ProgressBar redraws with \\r, throttled, then a final line and newline', () => {
    let t = 0
    const out: string[] = []
    const bar = new ProgressBar('f', 100, {write: (s: string) => out.push(s), columns: 40}, () => t, 100)
    bar.update(10)
    t = 50
    bar.update(20) // within the interval: no redraw
    t = 150
    bar.update(30)
    bar.done()
    assert.equal(out.length, 4)
    assert.ok(out.slice(0, 3).every((s) => s.startsWith('\r')))
    assert.match(out[2]!, /100%/)
    assert.equal(out[3], '\n')
    assert.match(out[1]!, /30%/)
  })
})

test('abandon ends the line where it stands, so an error starts on a line of its own', () => {
  const out: string[] = []
  const bar = new ProgressBar('f', undefined, {write: (s: string) => out.push(s), columns: 40}, () => 0)
  bar.update(10)
  bar.abandon()
  assert.equal(out.at(-1), '\n')
  assert.doesNotMatch(out.join(''), /100%/)
})

describe('withByteProgress', () => {
  const tty = (isTTY: boolean) => {
    const out: string[] = []
    return {out, stream: {isTTY, columns: 60, write: (s: string | Uint8Array) => out.push(String(s))}}
  }
  test('on a terminal: the bar with the bytes, ended by a newline', async () => {
    const {out, stream} = tty(true)
    const n = await withByteProgress('s.tsrec', async (onBytes) => {
      onBytes?.(1024)
      onBytes?.(4096)
      return 4096
    }, {stream, env: {TERM: 'xterm'}, now: () => 0})
    assert.equal(n, 4096)
    assert.match(out.join(''), /\rs\.tsrec\s+4KB/)
    assert.equal(out.at(-1), '\n')
  })
  test('not a terminal, or NO_COLOR: no bar, nothing written', async () => {
    for (const [isTTY, env] of [[false, {}], [true, {NO_COLOR: '1'}]] as const) {
      const {out, stream} = tty(isTTY)
      await withByteProgress('s.tsrec', async (onBytes) => assert.equal(onBytes, undefined), {stream, env})
      assert.deepEqual(out, [])
    }
  })
  test('a failure ends the bar line before the error goes on', async () => {
    const {out, stream} = tty(true)
    await assert.rejects(withByteProgress('s.tsrec', async (onBytes) => {
      onBytes?.(10)
      throw new Error('auth went away')
    }, {stream, env: {}, now: () => 0}), /auth went away/)
    assert.equal(out.at(-1), '\n')
  })
})
