import assert from 'node:assert/strict'
import {mkdtempSync, rmSync, statSync, truncateSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {after, before, describe, test} from 'node:test'
import {repoRoot, runBin, runTool} from '../helpers/cli.js'
import {inPty} from '../helpers/pty.js'
import {recordFile} from '../unit/client/play/helpers.js'

// The real tsh (bin/, as built) playing recording files made by RecordingWriter: no cluster and
// no login needed, in a pipe and on a terminal.

const TSH = path.join(repoRoot, 'bin', 'tsh')

describe('tsh play <file>', () => {
  let dir: string
  let home: string
  let file: string
  const env = () => ({TELEPORT_HOME: home})

  before(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'tsh-play-'))
    home = mkdtempSync(path.join(tmpdir(), 'tsh-play-home-'))
    file = await recordFile(dir, [{at: 0, print: 'first line\r\n'}, {at: 500, print: '\x1b[1mbold\x1b[0m\r\n'}, {at: 600_000, print: 'ten minutes later\r\n'}])
  })
  after(() => {
    rmSync(dir, {recursive: true, force: true})
    rmSync(home, {recursive: true, force: true})
  })

  test('-f text prints the output at once, escape sequences kept, with no login', () => {
    const r = runTool('tsh', ['play', '-f', 'text', file], {env: env(), timeout: 20_000})
    assert.equal(r.stderr, '')
    assert.equal(r.code, 0)
    assert.equal(r.stdout, 'first line\r\n\x1b[1mbold\x1b[0m\r\nten minutes later\r\n')
  })

  test('a damaged file plays up to the damage, then one line says where it stopped; exit 1', async () => {
    const damaged = await recordFile(dir, [{at: 0, print: 'kept\r\n'}, {at: 2000, print: 'cut off\r\n'}], 'damaged.tsrec')
    truncateSync(damaged, statSync(damaged).size - 60)
    const r = runTool('tsh', ['play', '-f', 'text', damaged], {env: env()})
    assert.equal(r.stdout, 'kept\r\n')
    assert.match(r.stderr, /^ERROR: recording \S+damaged\.tsrec is damaged at byte \d+, after 2 event\(s\): [^\n]+\n$/)
    assert.equal(r.code, 1)
  })

  test('a reader that stops early (| head) ends it quietly', async () => {
    const big = await recordFile(dir, Array.from({length: 40}, (_, i) => ({at: i, print: `${'x'.repeat(16_000)}\r\n`})), 'big.tsrec')
    const r = runBin('/bin/bash', ['-o', 'pipefail', '-c', `"${TSH}" play -f text "${big}" | head -c 10; echo " play=\${PIPESTATUS[0]}"`], {env: env()})
    assert.equal(r.stderr, '')
    assert.equal(r.stdout, 'xxxxxxxxxx play=0\n')
  })

  test('on a terminal: plays in raw mode, q quits during a long pause, and the terminal is given back', async () => {
    const term = inPty('/bin/sh', ['-c', `"${TSH}" play "${file}"; echo "exit=$?"; stty -a`], {...process.env, ...env()})
    await term.waitFor(/bold/)
    assert.ok(!term.output().includes('ten minutes later'))
    term.write('q')
    await term.waitFor(/exit=0/)
    await term.waitFor(/icanon/)
    assert.equal(await term.exit, 0)
    const out = term.output()
    assert.ok(out.includes('\x1b[8;25;80t'), 'the recording\'s size, as ESC[8;rows;cols t')
    assert.ok(out.includes('\x1b[?25h'), 'the cursor is shown again')
    assert.ok(!out.includes('ten minutes later'))
    assert.match(out, /(^|\s)icanon\b/, 'canonical mode is back on')
    assert.match(out, /(^|\s)echo\b/, 'echo is back on')
  })

  test('memory does not grow with the recording: 256 MiB of output plays in far less memory than that', async () => {
    const piece = Buffer.alloc(1024 * 1024, 'y').toString()
    const big = await recordFile(dir, Array.from({length: 256}, () => ({at: 0, print: piece})), 'huge.tsrec')
    const maxRssKiB = (recordingFile: string, format: string) => {
      const r = runBin('/usr/bin/time', ['-f', '%M', TSH, 'play', '-f', format, recordingFile], {env: env(), stdio: ['ignore', 'ignore', 'pipe'], timeout: 120_000})
      assert.equal(r.code, 0, r.stderr)
      return Number(r.stderr.trim().split('\n').at(-1))
    }
    for (const format of ['text', 'pty']) {
      const small = maxRssKiB(file, 'text')
      const large = maxRssKiB(big, format)
      // Held whole, the output alone would be 256 MiB more; read as it plays, what is left is GC slack.
      assert.ok(large < small + 96 * 1024, `-f ${format}: ${large} KiB for 256 MiB of output, ${small} KiB for a few bytes`)
    }
  })

  test('a word that is neither a file nor a session id, and a bad --speed, are one line each', () => {
    const word = runTool('tsh', ['play', 'nonsense'], {env: env()})
    assert.equal(word.stderr, 'ERROR: "nonsense" is neither a recording file nor a session id (give the path of a .tsrec file, or a session id from tsh recordings ls)\n')
    assert.equal(word.code, 2)
    const speed = runTool('tsh', ['play', '--speed', '32x', file], {env: env()})
    assert.match(speed.stderr, /^ERROR: --speed: "32x" is not a speed from 0.25 to 16 \([^\n]*\)\n$/)
    assert.equal(speed.code, 2)
  })

  test('a session id needs a login: one line saying so', () => {
    const r = runTool('tsh', ['play', '5c5b6f4e-2c4c-4c1a-9f7e-0d3b4f6f8a11'], {env: env()})
    assert.equal(r.code, 1)
    assert.equal(r.stderr.split('\n').length, 2, r.stderr)
    assert.match(r.stderr, /^ERROR: /)
  })

  test('tsh recordings list is tsh recordings ls', () => {
    const r = runTool('tsh', ['recordings', 'list', '--help'], {env: env()})
    assert.equal(r.code, 0, r.stderr)
    assert.match(r.stdout, /List session recordings\./)
    assert.match(r.stdout, /--from-utc/)
  })
})
