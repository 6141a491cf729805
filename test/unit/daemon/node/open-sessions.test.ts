import assert from 'node:assert/strict'
import {appendFileSync, existsSync, mkdtempSync, readdirSync, rmSync, statSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {after, describe, test} from 'node:test'
import {OpenSessions} from '../../../../src/daemon/node/open-sessions.js'
import type {EventFields} from '../../../../src/events/index.js'
import {FakeClock} from '../../../../src/lib/clock.js'
import {memoryLogger} from '../../../helpers/memory-logger.js'
import {eventually} from '../../../helpers/eventually.js'

// The node's markers of running sessions: a session whose node was killed gets its session.end
// at the next start. A "kill" here is a second OpenSessions on the same directory.

const root = mkdtempSync(path.join(tmpdir(), 'open-sessions-'))
after(() => rmSync(root, {recursive: true, force: true}))
let n = 0
const freshDir = () => path.join(root, `case-${n++}`)

const until = (check: () => boolean, what: string) => eventually(check, what, {timeoutMs: 10_000, intervalMs: 5})

describe('open sessions on disk', () => {
  const fields = (sid: string) => ({sid, user: 'alice', login: 'root', interactive: true, participants: ['alice'], session_start: '2026-01-01T00:00:00.000Z'})
  const sidA = '11111111-1111-4111-8111-111111111111'
  const sidB = '22222222-2222-4222-8222-222222222222'

  test('a session left open by a killed node gets its session.end at the next start, stopped at the last time it was seen', async () => {
    const dir = freshDir()
    const clock = new FakeClock(Date.parse('2026-01-01T00:00:00.000Z'))
    const sessions = new OpenSessions(dir, async () => {}, memoryLogger(), clock)
    sessions.opened(fields(sidA))
    sessions.opened(fields(sidB))
    assert.equal(statSync(dir).mode & 0o777, 0o700)
    assert.equal(statSync(path.join(dir, `${sidA}.json`)).mode & 0o777, 0o600)
    sessions.closed(sidB)
    await until(() => !existsSync(path.join(dir, `${sidB}.json`)), 'the ended session\'s marker to go')
    clock.advance(90_000)
    sessions.refresh()
    clock.advance(45_000) // then the node is killed

    const ended: EventFields[] = []
    let persisted = false
    const log = memoryLogger()
    const restarted = new OpenSessions(dir, async () => void (persisted = true), log, clock)
    assert.equal(await restarted.recover((f) => ended.push(f)), 1)
    assert.deepEqual(ended, [{...fields(sidA), session_stop: '2026-01-01T00:01:30.000Z', reason: 'node restarted'}])
    assert.ok(persisted, 'the session.end was on disk before the marker went')
    assert.deepEqual(readdirSync(dir), [])
    assert.equal(await restarted.recover(() => assert.fail('recovered twice')), 0)
  })

  test('an unreadable marker is dropped with a warning, not fatal', async () => {
    const dir = freshDir()
    const sessions = new OpenSessions(dir, async () => {}, memoryLogger())
    appendFileSync(path.join(dir, `${sidA}.json`), '{"fields":')
    const log = memoryLogger()
    assert.equal(await new OpenSessions(dir, async () => {}, log).recover(() => assert.fail('no session')), 0)
    assert.ok(log.lines.some((l) => /WARN audit: ignoring unreadable session marker/.test(l)))
    sessions.stopRefreshing()
  })
})
