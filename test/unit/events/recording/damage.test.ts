import assert from 'node:assert/strict'
import {appendFile, readFile, stat, truncate, writeFile} from 'node:fs/promises'
import {join} from 'node:path'
import {describe, test} from 'node:test'
import {FakeClock} from '../../../../src/lib/clock.js'
import {NotFoundError} from '../../../../src/lib/errors.js'
import {RecordingDamagedError, RecordingWriter, recoverRecording} from '../../../../src/events/recording/index.js'
import {readAll, withTempDir} from './temp-recording.js'

const CHUNK_HEADER_BYTES = 40

/** A closed recording of session.start and `chunks` one-print chunks; the byte offset each chunk ends at. */
async function recordChunks(file: string, chunks: number): Promise<number[]> {
  const writer = await RecordingWriter.create(file, {clock: new FakeClock(), fields: {sid: 's'}})
  writer.start({user: 'alice', size: '80:25'})
  await writer.flush()
  const ends = [(await stat(file)).size]
  for (let i = 0; i < chunks; i++) {
    writer.print(Buffer.from(`line ${i}\r\n`))
    await writer.flush()
    ends.push((await stat(file)).size)
  }
  await writer.close()
  return ends
}

describe('a damaged recording', () => {
  test('a torn tail: the whole chunks play, then the error names where it stopped', () => withTempDir(async (dir) => {
    const file = join(dir, 's.tsrec')
    const ends = await recordChunks(file, 5)
    await truncate(file, ends[3]! + 17)
    const {events, error} = await readAll(file)
    assert.equal(events.length, 4)
    assert.ok(error instanceof RecordingDamagedError)
    assert.equal(error.byteOffset, ends[3])
    assert.equal(error.eventIndex, 4)
    assert.match(error.message, new RegExp(`damaged at byte ${ends[3]}, after 4 event\\(s\\)`))
  }))

  test('a corrupted middle chunk: what precedes it plays, then it stops there', () => withTempDir(async (dir) => {
    const file = join(dir, 's.tsrec')
    const ends = await recordChunks(file, 5)
    const bytes = await readFile(file)
    bytes[ends[2]! + CHUNK_HEADER_BYTES + 12]! ^= 0xff
    await writeFile(file, bytes)
    const {events, error} = await readAll(file)
    assert.equal(events.length, 3)
    assert.ok(error instanceof RecordingDamagedError)
    assert.equal(error.byteOffset, ends[2])
    assert.equal(error.eventIndex, 3)
  }))

  test('a corrupted chunk header is caught by its checksum', () => withTempDir(async (dir) => {
    const file = join(dir, 's.tsrec')
    const ends = await recordChunks(file, 3)
    const bytes = await readFile(file)
    bytes[ends[1]! + 20]! ^= 0x01
    await writeFile(file, bytes)
    const {events, error} = await readAll(file)
    assert.equal(events.length, 2)
    assert.ok(error instanceof RecordingDamagedError)
    assert.match(error.message, /checksum/)
  }))

  test('a missing chunk is caught by the event index', () => withTempDir(async (dir) => {
    const file = join(dir, 's.tsrec')
    const ends = await recordChunks(file, 4)
    const bytes = await readFile(file)
    await writeFile(file, Buffer.concat([bytes.subarray(0, ends[1]), bytes.subarray(ends[2])]))
    const {events, error} = await readAll(file)
    assert.equal(events.length, 2)
    assert.ok(error instanceof RecordingDamagedError)
    assert.equal(error.byteOffset, ends[1])
    assert.match(error.message, /starts at event 3, expected 2/)
  }))

  test('bytes after the closing marker', () => withTempDir(async (dir) => {
    const file = join(dir, 's.tsrec')
    await recordChunks(file, 2)
    const closedSize = (await stat(file)).size
    await appendFile(file, 'trailing junk')
    const {events, error} = await readAll(file)
    assert.equal(events.length, 3)
    assert.ok(error instanceof RecordingDamagedError)
    assert.equal(error.byteOffset, closedSize)
    assert.match(error.message, /bytes follow the closing marker/)

    const recovered = await recoverRecording(file)
    assert.equal(recovered.cutBytes, 'trailing junk'.length)
    assert.equal((await stat(file)).size, closedSize)
    assert.equal((await readAll(file)).error, undefined)
  }))

  test('a file that is not a recording, and one that does not exist', () => withTempDir(async (dir) => {
    const file = join(dir, 'not.tsrec')
    await writeFile(file, 'hello, this is plain text and no recording at all')
    await assert.rejects(readAll(file), (err) => err instanceof RecordingDamagedError && err.byteOffset === 0 && /bad magic/.test(err.message))
    await assert.rejects(readAll(join(dir, 'missing.tsrec')), NotFoundError)
    await assert.rejects(readAll(dir), /is a directory/)
  }))
})

describe('recoverRecording', () => {
  test('keeps every whole chunk, cuts the torn tail and closes the file; a second run changes nothing', () => withTempDir(async (dir) => {
    const file = join(dir, 's.tsrec')
    const ends = await recordChunks(file, 5)
    await truncate(file, ends[3]! + 17)

    const recovered = await recoverRecording(file)
    assert.deepEqual(recovered, {
      events: 4, cutBytes: 17, changed: true, sessionEnded: false, participants: ['alice'],
      firstEventTime: '2026-01-01T00:00:00.000Z', lastEventTime: '2026-01-01T00:00:00.000Z',
    })
    const {events, error} = await readAll(file)
    assert.equal(error, undefined)
    assert.equal(events.length, 4)

    const before = await readFile(file)
    assert.equal((await recoverRecording(file)).changed, false)
    assert.ok((await readFile(file)).equals(before))
  }))

  test('a recording cut at a chunk boundary is closed without losing anything', () => withTempDir(async (dir) => {
    const file = join(dir, 's.tsrec')
    const ends = await recordChunks(file, 3)
    await truncate(file, ends[3]!)
    const recovered = await recoverRecording(file)
    assert.equal(recovered.cutBytes, 0)
    assert.equal(recovered.changed, true)
    assert.equal((await readAll(file)).events.length, 4)
  }))

  test('a whole recording is left as it is', () => withTempDir(async (dir) => {
    const file = join(dir, 's.tsrec')
    await recordChunks(file, 2)
    const before = await readFile(file)
    assert.equal((await recoverRecording(file)).changed, false)
    assert.ok((await readFile(file)).equals(before))
  }))

  test('a file whose header is damaged is not touched', () => withTempDir(async (dir) => {
    const file = join(dir, 's.tsrec')
    await writeFile(file, 'TSREC')
    await assert.rejects(recoverRecording(file), RecordingDamagedError)
    assert.equal(await readFile(file, 'utf8'), 'TSREC')
  }))
})
