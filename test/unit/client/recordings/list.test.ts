import assert from 'node:assert/strict'
import {describe, test} from 'node:test'
import {findRecordings, recordingsTable} from '../../../../src/client/recordings/list.js'
import type {RecordingQuery} from '../../../../src/api/auth-api.js'
import type {AuditEvent, SearchPage} from '../../../../src/events/index.js'

function end(sid: string, fields: Partial<AuditEvent> = {}): AuditEvent {
  return {
    event: 'session.end', code: 'T2004I', uid: `u-${sid}`, time: '2026-11-21T09:45:00.000Z', sid,
    participants: ['alice', 'bob'], server_hostname: 'node-1', session_start: '2026-11-21T09:30:12.345Z', session_stop: '2026-11-21T09:45:00.000Z',
    interactive: true, ...fields,
  }
}

describe('tsh recordings ls', () => {
  test('the table: ID, Type, Participants, Hostname, Timestamp (the session start, UTC, to the second)', () => {
    const text = recordingsTable([end('11111111-1111-4111-8111-111111111111'), end('22222222-2222-4222-8222-222222222222', {interactive: false, participants: ['carol'], server_hostname: 'db-1'})])
    const lines = text.trimEnd().split('\n')
    assert.match(lines[0]!, /^ID\s+Type\s+Participants\s+Hostname\s+Timestamp$/)
    assert.match(lines[1]!, /^-+ -+ -+ -+ -+$/)
    assert.match(lines[2]!, /^11111111-1111-4111-8111-111111111111 ssh\s+alice, bob\s+node-1\s+2026-11-21T09:30:12Z$/)
    assert.match(lines[3]!, /^22222222-2222-4222-8222-222222222222 ssh exec carol\s+db-1\s+2026-11-21T09:30:12Z$/)
  })

  test('names others chose are shown escaped, never as terminal control', () => {
    const text = recordingsTable([end('33333333-3333-4333-8333-333333333333', {server_hostname: 'evil\x1b[2J', participants: ['x\ny']})])
    assert.ok(!text.includes('\x1b'))
    assert.ok(text.includes('evil\\x1b[2J') && text.includes('x\\ny'))
  })

  test('pages are followed with nextKey up to --limit, and "more" says when the limit cut them', async () => {
    const all = Array.from({length: 7}, (_, i) => end(`${i}`))
    const asked: RecordingQuery[] = []
    const api = {
      async listRecordings(query: RecordingQuery): Promise<SearchPage> {
        asked.push(query)
        const at = Number(query.startKey ?? 0)
        const events = all.slice(at, at + Math.min(query.limit ?? 500, 3))
        return {events, ...(at + events.length < all.length ? {nextKey: String(at + events.length)} : {})}
      },
    }
    const range = {from: new Date(0), to: new Date(1)}
    const five = await findRecordings(api, range, 5)
    assert.deepEqual(five.events.map((e) => e.sid), ['0', '1', '2', '3', '4'])
    assert.equal(five.more, true)
    assert.deepEqual(asked.map((q) => [q.limit, q.startKey]), [[5, undefined], [2, '3'], [1, '5']])
    assert.ok(asked.every((q) => q.from === range.from && q.to === range.to))
    const every = await findRecordings(api, range, 50)
    assert.equal(every.events.length, 7)
    assert.equal(every.more, false)
  })
})
