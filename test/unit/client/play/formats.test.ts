import assert from 'node:assert/strict'
import {describe, test} from 'node:test'
import YAML from 'yaml'
import {playRecording} from '../../../../src/client/play/play.js'
import {fileSource} from '../../../../src/client/recordings/source.js'
import {FakeClock} from '../../../../src/lib/clock.js'
import {withTempDir} from '../../events/recording/temp-recording.js'
import {recordFile, Screen} from './helpers.js'

// tsh play -f text|json|yaml: the whole recording at once, no timing, from a real file.

const steps = [{at: 0, print: '$ ls\r\n'}, {at: 60_000, print: '\x1b[31mred\x1b[0m é\r\n'}, {at: 61_000, resize: '120:40'}]

async function played(dir: string, format: 'text' | 'json' | 'yaml'): Promise<string> {
  const clock = new FakeClock(0)
  const screen = new Screen(clock)
  const source = await fileSource(await recordFile(dir, steps))
  assert.equal(await playRecording(source, {format, clock, terminal: {stdin: process.stdin, stdout: screen}}), 'end')
  assert.equal(clock.pendingTimers, 0, 'no waiting')
  return screen.text
}

describe('tsh play -f text|json|yaml', () => {
  test('text is the output bytes alone, escape sequences kept, with no waiting', () => withTempDir(async (dir) => {
    assert.equal(await played(dir, 'text'), '$ ls\r\n\x1b[31mred\x1b[0m é\r\n')
  }))

  test('json is one event per line, a print\'s output base64 in data', () => withTempDir(async (dir) => {
    const lines = (await played(dir, 'json')).trimEnd().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>)
    assert.deepEqual(lines.map((e) => e.event), ['session.start', 'print', 'print', 'resize', 'session.end'])
    assert.deepEqual(lines.map((e) => e.ei), [0, 1, 2, 3, 4])
    assert.equal(Buffer.from(lines[2]!.data as string, 'base64').toString(), '\x1b[31mred\x1b[0m é\r\n')
    assert.equal(lines[3]!.size, '120:40')
    assert.equal(lines[0]!.data, undefined)
  }))

  test('yaml is one document per event', () => withTempDir(async (dir) => {
    const docs = YAML.parseAllDocuments(await played(dir, 'yaml')).map((d) => d.toJS() as Record<string, unknown>)
    assert.deepEqual(docs.map((e) => e.event), ['session.start', 'print', 'print', 'resize', 'session.end'])
    assert.equal(Buffer.from(docs[1]!.data as string, 'base64').toString(), '$ ls\r\n')
    assert.deepEqual(docs[4]!.participants, ['alice'])
  }))
})
