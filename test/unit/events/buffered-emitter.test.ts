import assert from 'node:assert/strict'
import {appendFileSync, mkdtempSync, readFileSync, rmSync, statSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {after, describe, test} from 'node:test'
import {BufferedEmitter, EventCode, EventJournal, EventName, makeEvent, type AuditEvent, type Emitter} from '../../../src/events/index.js'
import {FakeClock} from '../../../src/lib/clock.js'
import {UserError} from '../../../src/lib/errors.js'
import type {Logger} from '../../../src/lib/log.js'
import {memoryLogger} from '../../helpers/memory-logger.js'

// A daemon's audit events that auth has not taken yet, kept on disk. A "crash" here is a second
// journal opened on the same file while the first is left as it was (nothing flushed or closed
// by a stop). Retries wait on a FakeClock: no test here waits for time to pass.

const root = mkdtempSync(path.join(tmpdir(), 'audit-journal-'))
after(() => rmSync(root, {recursive: true, force: true}))
let n = 0
const freshDir = () => path.join(root, `case-${n++}`)

/** The auth API's emitter stand-in: takes events while `up`, recording their login field. */
function fakeAuth(up: boolean) {
  const state = {up, delivered: [] as string[], uids: [] as string[]}
  const api: Emitter = {
    emit: async (event: AuditEvent) => {
      if (!state.up) throw new UserError('cannot reach the auth server at 127.0.0.1:3025: connection refused')
      state.delivered.push(event.login!)
      state.uids.push(event.uid)
    },
  }
  return {state, api}
}

const exec = (login: string) => makeEvent(EventName.Exec, EventCode.Exec, {login})

async function buffered(auth: Emitter, file: string, log: Logger = memoryLogger(), clock = new FakeClock()): Promise<BufferedEmitter> {
  return new BufferedEmitter(auth, {log, clock, saved: await EventJournal.open(file, log)})
}

describe('audit events on disk', () => {
  test('events emitted while auth is down survive a crash and are sent after the restart, in order, once; a torn last line is skipped', async () => {
    const file = path.join(freshDir(), 'events', 'node-1.jsonl')
    const first = fakeAuth(false)
    const before = await buffered(first.api, file)
    for (const login of ['a', 'b', 'c']) void before.emit(exec(login))
    await before.persisted()
    assert.equal(statSync(file).mode & 0o777, 0o600)
    assert.equal(statSync(path.dirname(file)).mode & 0o777, 0o700)
    appendFileSync(file, '{"event":"exec","code":"T3002I","lo') // the crash cut a write short

    const log = memoryLogger()
    const second = fakeAuth(true)
    const after_ = await buffered(second.api, file, log)
    await after_.idle()
    assert.deepEqual(second.state.delivered, ['a', 'b', 'c'])
    assert.equal(new Set(second.state.uids).size, 3)
    assert.ok(log.lines.some((l) => /WARN audit: skipped 1 unreadable line/.test(l)), log.lines.join('\n'))
    await after_.persisted()
    assert.equal(readFileSync(file, 'utf8'), '', 'nothing left to send')
    await after_.close()
    await before.close(0)
  })

  test('events auth already took are not sent again after a crash', async () => {
    const file = path.join(freshDir(), 'node-1.jsonl')
    const first = fakeAuth(true)
    const before = await buffered(first.api, file)
    void before.emit(exec('a'))
    void before.emit(exec('b'))
    await before.idle()
    first.state.up = false
    void before.emit(exec('c'))
    await before.persisted()

    const second = fakeAuth(true)
    const after_ = await buffered(second.api, file)
    await after_.idle()
    assert.equal(second.state.delivered.length, 1)
    assert.deepEqual([...first.state.delivered, ...second.state.delivered], ['a', 'b', 'c'])
    await after_.close()
    await before.close(0)
  })

  test('a clean stop with auth down keeps the events for the next start', async () => {
    const file = path.join(freshDir(), 'node-1.jsonl')
    const log = memoryLogger()
    const first = fakeAuth(false)
    const before = await buffered(first.api, file, log)
    void before.emit(exec('a'))
    await before.close(0)
    assert.ok(log.lines.some((l) => /1 event\(s\) could not be delivered.*sent after the next start/.test(l)), log.lines.join('\n'))
    const second = fakeAuth(true)
    const after_ = await buffered(second.api, file)
    await after_.idle()
    assert.deepEqual(second.state.delivered, ['a'])
    await after_.close()
  })

  test('lines of sent events do not pile up while a backlog is being worked off: the file stays bounded', async () => {
    const file = path.join(freshDir(), 'node-1.jsonl')
    const {journal} = await EventJournal.open(file, memoryLogger())
    const events = Array.from({length: 5000}, (_, i) => ({event: 'exec', code: 'T3002I', uid: `uid-${i}`, login: `u${i}`}))
    for (const event of events) journal.append(event)
    for (const event of events.slice(0, 4990)) journal.sent(event.uid) // the queue never empties
    await journal.flush()
    const lines = readFileSync(file, 'utf8').split('\n').filter(Boolean).length
    assert.ok(lines < 1200, `${lines} lines for 10 unsent events`)
    await journal.close()
    const {journal: reopened, unsent} = await EventJournal.open(file, memoryLogger())
    assert.deepEqual(unsent.map((e) => e.login), events.slice(4990).map((e) => e.login))
    await reopened.close()
  })
})
