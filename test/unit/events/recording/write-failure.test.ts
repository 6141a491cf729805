import assert from 'node:assert/strict'
import type {FileHandle} from 'node:fs/promises'
import {join} from 'node:path'
import {describe, test} from 'node:test'
import {FakeClock} from '../../../../src/lib/clock.js'
import {RecordingDamagedError, RecordingWriter, recoverRecording} from '../../../../src/events/recording/index.js'
import {readAll, withTempDir} from './temp-recording.js'

describe('a recording whose writes fail', () => {
  test('reports once, never throws at the session, and keeps what was written', () => withTempDir(async (dir) => {
    const clock = new FakeClock()
    const file = join(dir, 's.tsrec')
    const failures: Error[] = []
    const writer = await RecordingWriter.create(file, {clock, fields: {sid: 's'}, onFailure: (err) => failures.push(err)})
    writer.start({user: 'alice', size: '80:25'})
    writer.print(Buffer.from('before\r\n'))
    await writer.flush()
    // Stands in for a full disk: every later write fails.
    await (Reflect.get(writer, 'handle') as FileHandle).close()

    writer.print(Buffer.from('after\r\n'))
    clock.advance(1000)
    writer.print(Buffer.from('and after\r\n'))
    await writer.flush()
    await writer.end({interactive: true})
    assert.equal(failures.length, 1)
    assert.ok(writer.failed)

    const {events, error} = await readAll(file)
    assert.deepEqual(events.map((e) => e.data?.toString()), [undefined, 'before\r\n'])
    assert.ok(error instanceof RecordingDamagedError)
    assert.equal((await recoverRecording(file)).events, 2)
  }))
})
