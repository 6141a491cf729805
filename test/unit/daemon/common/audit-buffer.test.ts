import assert from 'node:assert/strict'
import {appendFileSync, mkdtempSync, readFileSync, rmSync, statSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {after, describe, test} from 'node:test'
import type {AuthApi} from '../../../../src/api/auth-api.js'
import {AuditBuffer} from '../../../../src/daemon/common/audit-buffer.js'
import {EventJournal} from '../../../../src/daemon/common/event-journal.js'
import {EventCode, EventName, type EventFields} from '../../../../src/events/index.js'
import {UserError} from '../../../../src/lib/errors.js'
import {memoryLogger} from '../../../helpers/memory-logger.js'
import {eventually} from '../../../helpers/eventually.js'

// A daemon's audit events that auth has not taken yet, kept on disk. A "crash" here is a second
// journal opened on the same file while the first is left as it was (nothing flushed or closed
// by a stop).

const root = mkdtempSync(path.join(tmpdir(), 'audit-journal-'))
after(() => rmSync(root, {recursive: true, force: true}))
let n = 0
const freshDir = () => path.join(root, `case-${n++}`)

/** An AuthApi stand-in that takes events while `up`, recording their login field. */
function fakeAuth(up: boolean) {
  const state = {up, delivered: [] as string[], uids: [] as string[]}
  const api = {
    emitEvent: async (event: {login: string; uid: string}) => {
      if (!state.up) throw new UserError('cannot reach the auth server at 127.0.0.1:3025: connection refused')
      state.delivered.push(event.login)
      state.uids.push(event.uid)
    },
  } as unknown as AuthApi
  return {state, api}
}

const until = (check: () => boolean, what: string) => eventually(check, what, {timeoutMs: 10_000, intervalMs: 5})

const exec = (login: string): [EventName, EventCode, EventFields] => [EventName.Exec, EventCode.Exec, {login}]

describe('audit events on disk', () => {
  test('events emitted while auth is down survive a crash and are sent after the restart, in order, once; a torn last line is skipped', async () => {
    const file = path.join(freshDir(), 'events', 'node-1.jsonl')
    const first = fakeAuth(false)
    const before = new AuditBuffer(first.api, memoryLogger(), await EventJournal.open(file, memoryLogger()))
    for (const login of ['a', 'b', 'c']) before.emit(...exec(login))
    await before.persisted()
    assert.equal(statSync(file).mode & 0o777, 0o600)
    assert.equal(statSync(path.dirname(file)).mode & 0o777, 0o700)
    appendFileSync(file, '{"event":"exec","code":"T3002I","lo') // the crash cut a write short

    const log = memoryLogger()
    const second = fakeAuth(true)
    const after_ = new AuditBuffer(second.api, log, await EventJournal.open(file, log))
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
    const before = new AuditBuffer(first.api, memoryLogger(), await EventJournal.open(file, memoryLogger()))
    before.emit(...exec('a'))
    before.emit(...exec('b'))
    await before.idle()
    first.state.up = false
    before.emit(...exec('c'))
    await before.persisted()

    const second = fakeAuth(true)
    const after_ = new AuditBuffer(second.api, memoryLogger(), await EventJournal.open(file, memoryLogger()))
    await until(() => second.state.delivered.length === 1, 'delivery')
    await after_.idle()
    assert.deepEqual([...first.state.delivered, ...second.state.delivered], ['a', 'b', 'c'])
    await after_.close()
    await before.close(0)
  })

  test('a clean stop with auth down keeps the events for the next start', async () => {
    const file = path.join(freshDir(), 'node-1.jsonl')
    const log = memoryLogger()
    const first = fakeAuth(false)
    const before = new AuditBuffer(first.api, log, await EventJournal.open(file, log))
    before.emit(...exec('a'))
    await before.close(0)
    assert.ok(log.lines.some((l) => /1 event\(s\) could not be delivered.*sent after the next start/.test(l)), log.lines.join('\n'))
    const second = fakeAuth(true)
    const after_ = new AuditBuffer(second.api, memoryLogger(), await EventJournal.open(file, memoryLogger()))
    await until(() => second.state.delivered.length === 1, 'delivery')
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
