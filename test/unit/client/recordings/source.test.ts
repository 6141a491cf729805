import assert from 'node:assert/strict'
import {createReadStream} from 'node:fs'
import {describe, test} from 'node:test'
import {fileSource, sessionSource} from '../../../../src/client/recordings/source.js'
import {openRecordingTarget} from '../../../../src/client/recordings/target.js'
import type {RecordedEvent} from '../../../../src/events/recording/index.js'
import {NotFoundError, UsageError} from '../../../../src/lib/errors.js'
import {withTempDir} from '../../events/recording/temp-recording.js'
import {recordFile} from '../play/helpers.js'

// Where tsh play and export read from: a file (positioned reads) or a session streamed from auth
// (a new request per position).

const SID = '5c5b6f4e-2c4c-4c1a-9f7e-0d3b4f6f8a11'
const steps = [{at: 0, print: 'a'}, {at: 5000, resize: '100:30'}, {at: 12_000, print: 'b'}, {at: 30_000, print: 'c'}]

async function collect(events: AsyncIterable<RecordedEvent>): Promise<string[]> {
  const out: string[] = []
  for await (const {event, data} of events) out.push(data ? `${event.event}:${data.toString()}` : event.event)
  return out
}

describe('recording sources', () => {
  test('a file and a stream give the same events and size from any position', () => withTempDir(async (dir) => {
    const file = await recordFile(dir, steps)
    const requests: string[] = []
    const stream = await sessionSource({openRecording: async (sid) => (requests.push(sid), createReadStream(file))}, SID)
    const local = await fileSource(file)
    for (const source of [local, stream]) {
      assert.deepEqual(await collect((await source.from(0)).events), ['session.start', 'print:a', 'resize', 'print:b', 'print:c', 'session.end'])
      const at = await source.from(10_000)
      assert.deepEqual(at.size, {cols: 100, rows: 30})
      assert.deepEqual(await collect(at.events), ['print:b', 'print:c', 'session.end'])
    }
    assert.deepEqual(requests, [SID, SID], 'the stream was asked for again for the second position')
    assert.equal(stream.name, `session ${SID}`)
    await stream.close()
    await local.close()
  }))

  test('a path that exists plays as a file with no connection; a session id connects; anything else is refused', () => withTempDir(async (dir) => {
    const file = await recordFile(dir, steps)
    let connects = 0
    const connect = async () => {
      connects++
      return {openRecording: async () => createReadStream(file), close: async () => {}}
    }
    const local = await openRecordingTarget(file, connect)
    assert.equal(local.name, file)
    await local.close()
    assert.equal(connects, 0)
    const remote = await openRecordingTarget(SID, connect)
    assert.equal(remote.name, `session ${SID}`)
    await remote.close()
    assert.equal(connects, 1)
    await assert.rejects(openRecordingTarget(`${dir}/missing.tsrec`, connect), (err: Error) => err instanceof UsageError && /is neither a recording file nor a session id/.test(err.message))
  }))

  test('not found from auth is one clear error, and the connection is closed', async () => {
    let closed = false
    const connect = async () => ({openRecording: async () => Promise.reject(new NotFoundError(`recording ${SID} not found`)), close: async () => void (closed = true)})
    await assert.rejects(openRecordingTarget(SID, connect), (err: Error) => err instanceof NotFoundError && err.message === `recording ${SID} not found`)
    assert.equal(closed, true)
  })
})
