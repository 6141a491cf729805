import assert from 'node:assert/strict'
import {stat} from 'node:fs/promises'
import {join} from 'node:path'
import {describe, test} from 'node:test'
import {FakeClock} from '../../../../src/lib/clock.js'
import {MAX_PRINT_BYTES, RecordingWriter, type SessionEndEvent} from '../../../../src/events/recording/index.js'
import {readAll, withTempDir} from './temp-recording.js'

const SESSION = {sid: 'b7c1e0f2-0000-4000-8000-000000000001', server_id: 'node-uuid', server_hostname: 'node1'}

describe('a recording round trip', () => {
  test('every event kind reads back as written, ei and ci counting up by one', () => withTempDir(async (dir) => {
    const clock = new FakeClock()
    const file = join(dir, 'rec', 'session.tsrec')
    const writer = await RecordingWriter.create(file, {clock, fields: SESSION})
    writer.start({user: 'alice', login: 'root', size: '80:25'})
    clock.advance(10)
    writer.print(Buffer.from('hello '))
    clock.advance(20)
    writer.print(Buffer.from('world'))
    writer.resize('100:30', {user: 'alice'})
    writer.join({user: 'bob', login: 'root'})
    writer.leave({user: 'bob', login: 'root'})
    clock.advance(5)
    await writer.end({interactive: true})

    const {events, error} = await readAll(file)
    assert.equal(error, undefined)
    assert.deepEqual(events.map((e) => e.event.event), ['session.start', 'print', 'print', 'resize', 'session.join', 'session.leave', 'session.end'])
    assert.deepEqual(events.map((e) => e.event.ei), [0, 1, 2, 3, 4, 5, 6])
    assert.deepEqual(events.map((e) => e.elapsedMs), [0, 10, 30, 30, 30, 30, 35])
    assert.deepEqual(events.map((e) => (e.event as {code?: string}).code), ['T2000I', undefined, undefined, 'T2002I', 'T2001I', 'T2003I', 'T2004I'])

    const [start, first, second, resize, join_, , end] = events
    assert.equal((start!.event as {size: string}).size, '80:25')
    assert.equal(start!.event.time, '2026-01-01T00:00:00.000Z')
    for (const e of [start, resize, join_, end]) assert.equal((e!.event as {sid?: string}).sid, SESSION.sid)
    assert.deepEqual(first!.event, {ei: 1, event: 'print', time: '2026-01-01T00:00:00.010Z', ci: 0, bytes: 6, ms: 0, offset: 0})
    assert.deepEqual(second!.event, {ei: 2, event: 'print', time: '2026-01-01T00:00:00.030Z', ci: 1, bytes: 5, ms: 20, offset: 6})
    assert.equal(first!.data!.toString(), 'hello ')
    assert.equal(second!.data!.toString(), 'world')
    assert.equal((resize!.event as {size: string}).size, '100:30')
    assert.equal((join_!.event as {user: string}).user, 'bob')
    const ended = end!.event as SessionEndEvent
    assert.deepEqual(ended.participants, ['alice', 'bob'])
    assert.equal(ended.session_start, '2026-01-01T00:00:00.000Z')
    assert.equal(ended.session_stop, '2026-01-01T00:00:00.035Z')
    assert.equal(ended.interactive, true)
  }))

  test('a print over 64 KiB becomes several, with offsets continuing', () => withTempDir(async (dir) => {
    const file = join(dir, 'big.tsrec')
    const writer = await RecordingWriter.create(file, {clock: new FakeClock(), fields: SESSION})
    writer.start({user: 'alice', size: '80:25'})
    const output = Buffer.alloc(2 * MAX_PRINT_BYTES + 100, 'x')
    writer.print(output)
    await writer.end({interactive: false})

    const prints = (await readAll(file)).events.filter((e) => e.event.event === 'print')
    assert.deepEqual(prints.map((p) => [(p.event as {ci: number}).ci, p.data!.length, (p.event as {offset: number}).offset]), [
      [0, MAX_PRINT_BYTES, 0], [1, MAX_PRINT_BYTES, MAX_PRINT_BYTES], [2, 100, 2 * MAX_PRINT_BYTES],
    ])
    assert.ok(Buffer.concat(prints.map((p) => p.data!)).equals(output))
  }))

  test('the file is 0600 in a 0700 directory, and an existing file is refused', () => withTempDir(async (dir) => {
    const file = join(dir, 'deep', 'er', 'session.tsrec')
    const writer = await RecordingWriter.create(file, {clock: new FakeClock(), fields: SESSION})
    await writer.close()
    assert.equal((await stat(file)).mode & 0o777, 0o600)
    assert.equal((await stat(join(dir, 'deep', 'er'))).mode & 0o777, 0o700)
    await assert.rejects(RecordingWriter.create(file, {fields: SESSION}), {code: 'EEXIST'})
  }))
})
