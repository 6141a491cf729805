import assert from 'node:assert/strict'
import {createReadStream} from 'node:fs'
import {stat, truncate} from 'node:fs/promises'
import {join} from 'node:path'
import {describe, test} from 'node:test'
import {FakeClock} from '../../../../src/lib/clock.js'
import {BadParameterError} from '../../../../src/lib/errors.js'
import {RecordingDamagedError, RecordingReader, RecordingWriter, type ReadOptions, type RecordedEvent} from '../../../../src/events/recording/index.js'
import {drain, readAll, withTempDir} from './temp-recording.js'

/** A recording of 30 one-second chunks of output. */
async function recordSeconds(file: string): Promise<void> {
  const clock = new FakeClock()
  const writer = await RecordingWriter.create(file, {clock, fields: {sid: 's'}})
  writer.start({user: 'alice', size: '80:25'})
  for (let i = 1; i <= 30; i++) {
    await clock.advanceAsync(1000)
    await writer.written()
    writer.print(Buffer.from(`line ${i} ${'-'.repeat(i * 50)}\r\n`))
  }
  await writer.end({interactive: true})
}

/** Reads through a stream of small pieces, so that headers and payloads straddle them. */
async function readStream(file: string, options: ReadOptions = {}): Promise<{events: RecordedEvent[]; error?: unknown}> {
  const stream = createReadStream(file, {highWaterMark: 97})
  const reader = await RecordingReader.fromStream(stream, 'the download')
  return drain(reader, options, () => void stream.destroy())
}

const summary = (events: RecordedEvent[]) => events.map((e) => [e.event.ei, e.event.event, e.elapsedMs, e.data?.toString()])

describe('reading a recording from a stream', () => {
  test('gives the same events as the file, from the start or from a time', () => withTempDir(async (dir) => {
    const file = join(dir, 's.tsrec')
    await recordSeconds(file)
    assert.deepEqual(summary((await readStream(file)).events), summary((await readAll(file)).events))
    const seeked = await readStream(file, {fromMs: 20_000})
    assert.equal(seeked.error, undefined)
    assert.deepEqual(summary(seeked.events), summary((await readAll(file, {fromMs: 20_000})).events))
    assert.equal(seeked.events[0]!.elapsedMs, 20_000)
  }))

  test('a cut-short download plays up to the damage, then says where it stopped', () => withTempDir(async (dir) => {
    const file = join(dir, 's.tsrec')
    await recordSeconds(file)
    await truncate(file, (await stat(file)).size - 100)
    const fromFile = await readAll(file)
    const fromStream = await readStream(file)
    assert.ok(fromStream.error instanceof RecordingDamagedError)
    assert.ok(fromFile.error instanceof RecordingDamagedError)
    assert.equal(fromStream.error.byteOffset, fromFile.error.byteOffset)
    assert.equal(fromStream.error.eventIndex, fromFile.error.eventIndex)
    assert.match(fromStream.error.message, /^recording the download is damaged at byte/)
    assert.equal(fromStream.events.length, fromFile.events.length)
  }))

  test('is read once, forward', () => withTempDir(async (dir) => {
    const file = join(dir, 's.tsrec')
    await recordSeconds(file)
    const stream = createReadStream(file)
    const reader = await RecordingReader.fromStream(stream, 'the download')
    for await (const recorded of reader.events({fromMs: 10_000})) {
      assert.equal(recorded.elapsedMs, 10_000)
      break
    }
    await assert.rejects(reader.terminalSizeAt(0), BadParameterError)
    stream.destroy()
  }))
})
