import assert from 'node:assert/strict'
import {describe, test} from 'node:test'
import type {SessionTracker} from '../../../../src/api/auth-api.js'
import {sessionsData, sessionsText} from '../../../../src/client/sessions/render.js'

// `tsh sessions ls`: the table users read and the JSON/YAML scripts read.

function tracker(sessionId: string, created: string, extra: Partial<SessionTracker> = {}): SessionTracker {
  return {
    sessionId, kind: 'ssh', state: 'RUNNING', created, expires: '2026-12-01T10:01:00.000Z', hostId: 'host-1', hostname: 'db-1', address: '10.0.0.9:3022',
    clusterName: 'example.com', user: 'alice', login: 'root', participants: [{user: 'alice', mode: 'peer', lastActive: created}], ...extra,
  }
}

const trackers = [
  tracker('22222222-3333-4444-8555-666666666666', '2026-12-01T10:05:00.000Z', {
    user: 'bob', login: 'postgres', hostname: 'web\x1b[2J',
    participants: [{user: 'bob', mode: 'peer', lastActive: '2026-12-01T10:05:00.000Z'}, {user: 'carol', mode: 'observer', lastActive: '2026-12-01T10:06:00.000Z'}, {user: 'bob', mode: 'peer', lastActive: '2026-12-01T10:07:00.000Z'}],
  }),
  tracker('11111111-2222-4333-8444-555555555555', '2026-12-01T10:00:00.000Z'),
]

describe('tsh sessions ls rendering', () => {
  test('text: ID, State, User, Login, Hostname, Participants (each once), Created; oldest first; names escaped', () => {
    assert.equal(
      sessionsText(trackers),
      [
        'ID                                   State   User  Login    Hostname   Participants Created',
        '------------------------------------ ------- ----- -------- ---------- ------------ -----------------------------',
        '11111111-2222-4333-8444-555555555555 RUNNING alice root     db-1       alice        2026-12-01 10:00:00 +0000 UTC',
        '22222222-3333-4444-8555-666666666666 RUNNING bob   postgres web\\x1b[2J bob, carol   2026-12-01 10:05:00 +0000 UTC',
        '',
      ].join('\n'),
    )
  })

  test('data: snake_case records with every participant and its mode', () => {
    const [first, second] = sessionsData(trackers) as Array<Record<string, unknown>>
    assert.equal(first!.session_id, '11111111-2222-4333-8444-555555555555')
    assert.deepEqual(Object.keys(first!), ['session_id', 'kind', 'state', 'created', 'expires', 'host_id', 'hostname', 'address', 'cluster_name', 'user', 'login', 'participants'])
    assert.deepEqual(second!.participants, [
      {user: 'bob', mode: 'peer', last_active: '2026-12-01T10:05:00.000Z'},
      {user: 'carol', mode: 'observer', last_active: '2026-12-01T10:06:00.000Z'},
      {user: 'bob', mode: 'peer', last_active: '2026-12-01T10:07:00.000Z'},
    ])
  })

  test('no sessions: the header alone', () => {
    assert.equal(sessionsText([]).split('\n').length, 3)
  })
})
