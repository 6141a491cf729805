import assert from 'node:assert/strict'
import {PassThrough} from 'node:stream'
import {describe, test} from 'node:test'
import type {SessionTracker} from '../../../../src/api/auth-api.js'
import {joinEnv, joinSession, parseJoinArgs, type JoinRoute} from '../../../../src/client/join/join.js'
import {NotFoundError, UsageError, UserError} from '../../../../src/lib/errors.js'

// tsh join's library before any connection: the command line, the env that asks the node to
// join, and what the user hears when the tracker lookup fails. Joining a real node is in
// test/integration/node/node-session-join.test.ts.

const SID = '6b5f9a5e-1c1e-4d2b-9c51-0d1f3c2a7e11'

const tracker = (over: Partial<SessionTracker> = {}): SessionTracker => ({
  sessionId: SID, kind: 'ssh', state: 'RUNNING', created: '2026-12-02T10:00:00Z', expires: '2026-12-02T11:00:00Z',
  hostId: 'a1', hostname: 'node-1', address: '10.0.0.1:3022', clusterName: 'example.com', user: 'alice', login: 'root', participants: [], ...over,
})

const io = () => ({stdin: new PassThrough(), stdout: new PassThrough(), stderr: new PassThrough()})

function route(lookup: JoinRoute['lookup'], connected: string[] = []): JoinRoute {
  return {
    lookup,
    connect: async (t, login) => {
      connected.push(`${t.hostId} ${login}`)
      throw new UserError('stop here')
    },
  }
}

describe('tsh join arguments', () => {
  test('a session id (any case) and a mode, observer by default', () => {
    assert.deepEqual(parseJoinArgs(SID.toUpperCase(), undefined), {sid: SID, mode: 'observer'})
    assert.deepEqual(parseJoinArgs(SID, 'moderator', {login: 'ubuntu'}), {sid: SID, mode: 'moderator', login: 'ubuntu'})
  })
  test('a bad id or mode is a usage error saying what is expected', () => {
    assert.throws(() => parseJoinArgs('node-1', undefined), (err: Error) => err instanceof UsageError && /invalid session id "node-1": expected a UUID/.test(err.message))
    assert.throws(() => parseJoinArgs(SID, 'spy'), (err: Error) => err instanceof UsageError && err.message === 'invalid participant mode "spy"; expected observer, peer, moderator')
  })
  test('the env the node reads', () => {
    assert.deepEqual(joinEnv({sid: SID, mode: 'peer'}), {TELEPORT_SESSION: SID, TELEPORT_PARTICIPANT_MODE: 'peer'})
  })
})

describe('tsh join lookup', () => {
  test('an unknown session: one line with a hint, no connection', async () => {
    const connected: string[] = []
    await assert.rejects(
      joinSession({sid: SID, mode: 'observer'}, io(), route(() => Promise.reject(new NotFoundError('session tracker not found')), connected)),
      (err: Error) => err instanceof NotFoundError && err.message === `session ${SID} is not found` && /tsh sessions ls/.test((err as UserError).hint ?? ''),
    )
    assert.deepEqual(connected, [])
  })
  test('an ended session is refused before connecting', async () => {
    await assert.rejects(joinSession({sid: SID, mode: 'observer'}, io(), route(async () => tracker({state: 'TERMINATED'}))), /has ended/)
  })
  test('the node is reached by its id, as the session\'s login unless one is given', async () => {
    const connected: string[] = []
    await assert.rejects(joinSession({sid: SID, mode: 'observer'}, io(), route(async () => tracker(), connected)), /stop here/)
    await assert.rejects(joinSession({sid: SID, mode: 'observer', login: 'ubuntu'}, io(), route(async () => tracker(), connected)), /stop here/)
    assert.deepEqual(connected, ['a1 root', 'a1 ubuntu'])
  })
})
