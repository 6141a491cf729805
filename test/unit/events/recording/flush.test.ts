import assert from 'node:assert/strict'
import {stat} from 'node:fs/promises'
import {describe, test} from 'node:test'
import {RecordingDamagedError} from '../../../../src/events/recording/index.js'
import {readAll, startedWriter, withTempDir} from './temp-recording.js'

const FILE_HEADER_BYTES = 20

describe('when a recording reaches the disk', () => {
  test('buffered events are written one second after the first of them, not before', () => withTempDir(async (dir) => {
    const {clock, file, writer} = await startedWriter(dir)
    clock.advance(400)
    writer.print(Buffer.from('ls\r\n'))
    clock.advance(599)
    await writer.written()
    assert.equal((await stat(file)).size, FILE_HEADER_BYTES)

    clock.advance(1)
    await writer.written()
    assert.ok((await stat(file)).size > FILE_HEADER_BYTES)
    // As a kill -9 would leave it: both events readable, then the missing end is reported.
    const {events, error} = await readAll(file)
    assert.deepEqual(events.map((e) => e.event.event), ['session.start', 'print'])
    assert.ok(error instanceof RecordingDamagedError)
    assert.equal(error.eventIndex, 2)
    assert.equal(error.byteOffset, (await stat(file)).size)
    assert.match(error.message, /without its closing marker/)
    await writer.close()
  }))

  test('a full chunk is written at once, without waiting for the second', () => withTempDir(async (dir) => {
    const {clock, file, writer} = await startedWriter(dir, {chunkBytes: 1024})
    writer.print(Buffer.alloc(2000, 'a'))
    await writer.written()
    assert.ok((await stat(file)).size > FILE_HEADER_BYTES)
    await writer.close()
    assert.equal((await readAll(file)).error, undefined)
  }))

  test('an idle session writes nothing more', () => withTempDir(async (dir) => {
    const {clock, file, writer} = await startedWriter(dir)
    clock.advance(1000)
    await writer.written()
    const size = (await stat(file)).size
    assert.equal(clock.pendingTimers, 0)
    clock.advance(60_000)
    await writer.written()
    assert.equal((await stat(file)).size, size)
    await writer.close()
  }))
})
