import assert from 'node:assert/strict'
import {readFile, stat, truncate, writeFile} from 'node:fs/promises'
import {join} from 'node:path'
import {PassThrough} from 'node:stream'
import {describe, test} from 'node:test'
import {exportAsciicast} from '../../../../src/client/recordings/export.js'
import {fileSource} from '../../../../src/client/recordings/source.js'
import {RecordingDamagedError} from '../../../../src/events/recording/index.js'
import {AlreadyExistsError} from '../../../../src/lib/errors.js'
import {inPty} from '../../../helpers/pty.js'
import {withTempDir} from '../../events/recording/temp-recording.js'
import {recordFile, T0} from '../play/helpers.js'

// tsh recordings export --format asciicast, checked by the real asciinema (Debian's 2.x `asciinema cat`).

/** What `asciinema cat <file>` prints (it needs a terminal: it runs in a real pty). */
async function asciinemaCat(file: string): Promise<string> {
  const term = inPty('/usr/bin/asciinema', ['cat', file], {...process.env, LANG: 'C.UTF-8'})
  assert.equal(await term.exit, 0, term.output())
  return term.output()
}

const steps = [{at: 0, print: 'hello '}, {at: 1500, resize: '132:43'}, {at: 2250, print: 'wörld\r\n'}]

describe('tsh recordings export --format asciicast', () => {
  test('a cast file: header with width and height (not swapped), output and resize lines timed from the start', () => withTempDir(async (dir) => {
    const source = await fileSource(await recordFile(dir, steps))
    const out = join(dir, 's.cast')
    await exportAsciicast(source, {output: out, stdout: new PassThrough()})
    await source.close()
    assert.equal((await stat(out)).mode & 0o777, 0o600)
    const [header, ...events] = (await readFile(out, 'utf8')).trimEnd().split('\n').map((l) => JSON.parse(l) as unknown)
    assert.deepEqual(header, {version: 2, width: 80, height: 25, timestamp: Math.floor(T0 / 1000)})
    assert.deepEqual(events, [[0, 'o', 'hello '], [1.5, 'r', '132x43'], [2.25, 'o', 'wörld\r\n']])
  }))

  test('asciinema cat accepts it and prints the output', () => withTempDir(async (dir) => {
    const source = await fileSource(await recordFile(dir, steps))
    const out = join(dir, 's.cast')
    await exportAsciicast(source, {output: out, stdout: new PassThrough()})
    await source.close()
    assert.equal(await asciinemaCat(out), 'hello wörld\r\n')
  }))

  test('to stdout when no -o', () => withTempDir(async (dir) => {
    const source = await fileSource(await recordFile(dir, steps))
    const stdout = new PassThrough()
    const chunks: Buffer[] = []
    stdout.on('data', (c: Buffer) => chunks.push(c))
    await exportAsciicast(source, {stdout})
    await source.close()
    assert.equal(Buffer.concat(chunks).toString().split('\n').length, 5)
  }))

  test('an existing --output file is kept unless --force', () => withTempDir(async (dir) => {
    const source = await fileSource(await recordFile(dir, steps))
    const out = join(dir, 'kept.cast')
    await writeFile(out, 'mine')
    await assert.rejects(exportAsciicast(source, {output: out, stdout: new PassThrough()}), (err: Error) => err instanceof AlreadyExistsError && /kept\.cast already exists/.test(err.message))
    assert.equal(await readFile(out, 'utf8'), 'mine')
    await exportAsciicast(source, {output: out, force: true, stdout: new PassThrough()})
    assert.match(await readFile(out, 'utf8'), /^\{"version":2/)
    await source.close()
  }))

  test('a damaged recording exports up to the damage (the file is kept and plays), then says where it stopped', () => withTempDir(async (dir) => {
    const file = await recordFile(dir, steps)
    await truncate(file, (await stat(file)).size - 60)
    const source = await fileSource(file)
    const out = join(dir, 'partial.cast')
    await assert.rejects(exportAsciicast(source, {output: out, stdout: new PassThrough()}), RecordingDamagedError)
    await source.close()
    assert.equal(await asciinemaCat(out), 'hello ')
  }))
})
