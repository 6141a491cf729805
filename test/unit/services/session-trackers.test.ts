import assert from 'node:assert/strict'
import {describe, test} from 'node:test'
import {AccessDeniedError, BadParameterError} from '../../../src/lib/errors.js'
import {SESSION_TRACKER_TTL_MS, SessionTrackerService, validateSessionTrackerUpdate, type SessionTrackerUpdate} from '../../../src/services/session-trackers.js'
import {setup} from './helpers.js'

// Live session trackers in the backend: written by the node running the session, gone when it
// removes them or when it stops renewing them (expiry on the clock), refused to any other host;
// what a node may write is checked field by field.

const SID = '0f8e2c1a-3b4d-4e5f-8a9b-0c1d2e3f4a5b'
const SID2 = '1f8e2c1a-3b4d-4e5f-8a9b-0c1d2e3f4a5b'
const HOST = 'c0ffee00-0000-4000-8000-000000000001'
const OTHER = 'c0ffee00-0000-4000-8000-000000000002'

function update(extra: Partial<SessionTrackerUpdate> = {}): SessionTrackerUpdate {
  return {
    kind: 'ssh', state: 'RUNNING', created: '2026-01-01T00:00:00.000Z', hostname: 'node-1', address: '10.0.0.5:3022', clusterName: 'example.com',
    user: 'alice', login: 'root', participants: [{user: 'alice', mode: 'peer', lastActive: '2026-01-01T00:00:00.000Z'}], ...extra,
  }
}

function service(options: {maxPerHost?: number} = {}) {
  const {clock, backend} = setup()
  return {clock, trackers: new SessionTrackerService(backend, {clock, ...options})}
}

describe('SessionTrackerService', () => {
  test('a tracker is stored with its host and an expiry 30 s on, listed oldest first, and gone once it expires', async () => {
    const {clock, trackers} = service()
    const written = await trackers.upsert(SID, HOST, update())
    assert.equal(written.hostId, HOST)
    assert.equal(written.sessionId, SID)
    assert.equal(Date.parse(written.expires) - clock.now().getTime(), SESSION_TRACKER_TTL_MS)
    await trackers.upsert(SID2, HOST, update({created: '2025-12-31T23:59:00.000Z', user: 'bob'}))
    assert.deepEqual((await trackers.list()).map((t) => t.user), ['bob', 'alice'])
    assert.equal((await trackers.get(SID))?.participants[0]?.user, 'alice')
    clock.advance(SESSION_TRACKER_TTL_MS - 1)
    assert.equal((await trackers.list()).length, 2)
    clock.advance(1)
    assert.deepEqual(await trackers.list(), [])
    assert.equal(await trackers.get(SID), undefined)
  })

  test('renewing pushes the expiry; a shorter ttl the node asks for is kept', async () => {
    const {clock, trackers} = service()
    await trackers.upsert(SID, HOST, update())
    clock.advance(20_000)
    await trackers.upsert(SID, HOST, update({participants: []}))
    clock.advance(20_000)
    assert.deepEqual((await trackers.get(SID))?.participants, [], 'renewed and replaced')
    await trackers.upsert(SID, HOST, update({ttlMs: 5_000}))
    clock.advance(5_000)
    assert.equal(await trackers.get(SID), undefined)
  })

  test('another host may neither replace nor remove a live tracker; once it expired the id is free', async () => {
    const {clock, trackers} = service()
    await trackers.upsert(SID, HOST, update())
    await assert.rejects(trackers.upsert(SID, OTHER, update({user: 'mallory'})), AccessDeniedError)
    await assert.rejects(trackers.remove(SID, OTHER), AccessDeniedError)
    assert.equal((await trackers.get(SID))?.user, 'alice')
    await trackers.remove(SID, HOST)
    assert.equal(await trackers.get(SID), undefined)
    await trackers.remove(SID, HOST) // a repeat (after a lost answer) is fine
    await trackers.upsert(SID, HOST, update())
    clock.advance(SESSION_TRACKER_TTL_MS)
    assert.equal((await trackers.upsert(SID, OTHER, update())).hostId, OTHER)
  })

  test('a host may have a bounded number of live sessions; renewing one of them, or another host\'s, is still fine', async () => {
    const {trackers} = service({maxPerHost: 3})
    const sid = (i: number) => `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`
    for (let i = 0; i < 3; i++) await trackers.upsert(sid(i), HOST, update())
    await assert.rejects(trackers.upsert(sid(3), HOST, update()), {name: 'LimitExceededError', message: `host ${HOST} already has 3 live sessions`})
    await trackers.upsert(sid(0), HOST, update({participants: []}))
    await trackers.upsert(sid(3), OTHER, update())
  })

  test('a session id must be a lowercase UUID', async () => {
    const {trackers} = service()
    await assert.rejects(trackers.upsert('../x', HOST, update()), /is not a lowercase UUID/)
    await assert.rejects(trackers.get('ABC'), BadParameterError)
  })
})

describe('validateSessionTrackerUpdate', () => {
  const refused: [string, Record<string, unknown>, RegExp][] = [
    ['an unknown state', {state: 'SLEEPING'}, /state must be one of PENDING, RUNNING, TERMINATED/],
    ['another kind', {kind: 'k8s'}, /kind must be "ssh"/],
    ['a hostname with a space', {hostname: 'node 1'}, /hostname is invalid/],
    ['an escape in the address', {address: '10.0.0.5:3022\x1b[2J'}, /address must be printable/],
    ['a user with a slash', {user: 'a/b'}, /user is not a user name/],
    ['a login with a space', {login: 'ro ot'}, /login must be a login/],
    ['a login of 300 characters', {login: 'r'.repeat(300)}, /login must be a login of at most 255/],
    ['an unknown mode', {participants: [{user: 'bob', mode: 'owner', lastActive: '2026-01-01T00:00:00Z'}]}, /participants\[0\]\.mode must be one of observer, peer, moderator/],
    ['a participant time that is not one', {participants: [{user: 'bob', mode: 'peer', lastActive: 'yesterday'}]}, /participants\[0\]\.lastActive must be an ISO 8601 time/],
    ['65 participants', {participants: Array.from({length: 65}, () => ({user: 'bob', mode: 'peer', lastActive: '2026-01-01T00:00:00Z'}))}, /at most 64/],
    ['a long reason', {reason: 'x'.repeat(1025)}, /reason must be printable text of at most 1024/],
    ['a ttl of an hour', {ttlMs: 3_600_000}, /ttlMs must be whole milliseconds from 1000 to 60000/],
    ['a created time that is not one', {created: 'now'}, /created must be an ISO 8601 time/],
  ]
  for (const [what, change, message] of refused) {
    test(`refuses ${what}`, () => {
      assert.throws(() => validateSessionTrackerUpdate({...update(), ...change}), (err: Error) => err instanceof BadParameterError && message.test(err.message))
    })
  }

  test('keeps only the known fields, times normalised', () => {
    const clean = validateSessionTrackerUpdate({...update({created: '2026-01-01T01:00:00+01:00', invited: ['bob']}), sessionId: 'forged', hostId: 'forged', expires: '2099-01-01T00:00:00Z'})
    assert.equal(clean.created, '2026-01-01T00:00:00.000Z')
    assert.deepEqual(clean.invited, ['bob'])
    assert.ok(!('hostId' in clean) && !('sessionId' in clean) && !('expires' in clean))
  })
})
