import assert from 'node:assert/strict'
import {afterEach, describe, test} from 'node:test'
import type {ApiIdentity} from '../../../../../src/api/identity.js'
import type {PartyInfo} from '../../../../../src/daemon/node/session/party.js'
import type {SessionTap} from '../../../../../src/daemon/node/session/tap.js'
import {sessionTrackerTap} from '../../../../../src/daemon/node/session/tracker-tap.js'
import {SessionTrackerWriter} from '../../../../../src/daemon/node/session/tracker-writer.js'
import {FakeClock} from '../../../../../src/lib/clock.js'
import type {ParsedCert} from '../../../../../src/sshca/index.js'
import {memoryAuthApi, type MemoryAuthApi} from '../../../../helpers/memory-auth-api.js'
import {memoryLogger} from '../../../../helpers/memory-logger.js'

// A session's tracker as the node keeps it on auth (the real routes in memory, one FakeClock for
// both): written at the start with its parties, rewritten as they come and go, renewed on the
// clock before auth lets it expire, removed at the end; auth being away is waited out and the
// tracker comes back as it is by then, with one log line for the outage.

const HOST_ID = 'c0ffee00-0000-4000-8000-000000000001'
const NODE: ApiIdentity = {kind: 'host', hostId: HOST_ID, role: 'Node', remoteAddr: '10.0.0.5', cert: {} as ParsedCert}
const SID = '0f8e2c1a-3b4d-4e5f-8a9b-0c1d2e3f4a5b'
const EXIT = {code: 0}

const open: {auth: MemoryAuthApi; writer: SessionTrackerWriter}[] = []
afterEach(async () => {
  for (const {auth, writer} of open.splice(0)) {
    await writer.close()
    await auth.close()
  }
})

async function setup() {
  const clock = new FakeClock(Date.parse('2026-12-01T10:00:00Z'))
  const auth = await memoryAuthApi({identity: NODE, clock})
  const log = memoryLogger()
  const writer = new SessionTrackerWriter({api: auth.api, log, clock})
  writer.start()
  open.push({auth, writer})
  const tap = sessionTrackerTap(writer, {hostname: 'node-1', address: () => '0.0.0.0:3022', clusterName: 'example.com'}, {sid: SID, user: 'alice', login: 'root'})
  const tracker = () => auth.auth.sessionTrackers.get(SID)
  const writes = () => auth.calls.filter((c) => c === `PUT /v1/sessions/${SID}`).length
  return {clock, auth, log, writer, tap, tracker, writes}
}

const party = (id: string, user: string, mode: PartyInfo['mode'] = 'peer'): PartyInfo => ({id, user, mode})

function start(tap: SessionTap, clock: FakeClock): void {
  tap.onPartyJoin!(party('p1', 'alice'), clock.now())
  tap.onStart!({}, clock.now())
}

describe('session tracker tap and writer', () => {
  test('written RUNNING at the start with its starter, rewritten as parties come and go, removed at the end', async () => {
    const {clock, tap, writer, tracker} = await setup()
    tap.onPartyJoin!(party('p1', 'alice'), clock.now())
    await writer.idle()
    assert.equal(await tracker(), undefined, 'nothing before the program starts')
    tap.onStart!({}, clock.now())
    await writer.idle()
    const written = await tracker()
    assert.equal(written?.state, 'RUNNING')
    assert.equal(written?.created, '2026-12-01T10:00:00.000Z')
    assert.deepEqual([written?.hostId, written?.hostname, written?.address, written?.user, written?.login], [HOST_ID, 'node-1', '10.0.0.5:3022', 'alice', 'root'])
    assert.deepEqual(written?.participants, [{user: 'alice', mode: 'peer', lastActive: '2026-12-01T10:00:00.000Z'}])
    clock.advance(5_000)
    tap.onPartyJoin!(party('p2', 'bob', 'observer'), clock.now())
    await writer.idle()
    assert.deepEqual((await tracker())?.participants.map((p) => [p.user, p.mode, p.lastActive]), [['alice', 'peer', '2026-12-01T10:00:00.000Z'], ['bob', 'observer', '2026-12-01T10:00:05.000Z']])
    tap.onPartyLeave!(party('p2', 'bob', 'observer'), clock.now())
    await writer.idle()
    assert.deepEqual((await tracker())?.participants.map((p) => p.user), ['alice'])
    tap.onEnd!(EXIT, clock.now())
    await writer.idle()
    assert.equal(await tracker(), undefined)
  })

  test('renewed every 10 s on the node clock, so it outlives auth\'s 30 s expiry while the session runs', async () => {
    const {clock, tap, writer, tracker, writes} = await setup()
    start(tap, clock)
    await writer.idle()
    await clock.advanceAsync(5 * 60_000)
    assert.ok(await tracker(), 'still there after five minutes')
    assert.equal(writes(), 1 + 30)
    assert.ok(Date.parse((await tracker())!.expires) > clock.now().getTime() + 20_000)
  })

  test('changes made while a write is in flight are coalesced into one next write with the latest state', async () => {
    const {clock, tap, writer, tracker, writes} = await setup()
    start(tap, clock)
    for (let i = 2; i <= 6; i++) tap.onPartyJoin!(party(`p${i}`, `user${i}`, 'observer'), clock.now())
    await writer.idle()
    assert.equal(writes(), 2)
    assert.equal((await tracker())?.participants.length, 6)
  })

  test('auth away: logged once, the tracker lapses on auth, and comes back as it is now on the first renewal after', async () => {
    const {clock, auth, log, tap, writer, tracker} = await setup()
    start(tap, clock)
    await writer.idle()
    auth.reachable = false
    tap.onPartyJoin!(party('p2', 'bob', 'observer'), clock.now())
    await clock.advanceAsync(60_000)
    assert.equal(log.lines.filter((l) => l.startsWith('WARN')).length, 1, log.lines.join('\n'))
    assert.match(log.lines[0]!, /Cannot write session trackers to auth: cannot reach the auth server/)
    assert.equal(await tracker(), undefined, 'expired on auth meanwhile')
    auth.reachable = true
    await clock.advanceAsync(10_000)
    assert.deepEqual((await tracker())?.participants.map((p) => p.user), ['alice', 'bob'])
    assert.match(log.lines.at(-1)!, /^INFO Session trackers: auth takes them again/)
  })

  test('a session ending while auth is away is removed once auth is back; past its expiry nothing is sent', async () => {
    const {clock, auth, tap, writer, tracker} = await setup()
    start(tap, clock)
    await writer.idle()
    auth.reachable = false
    tap.onEnd!(EXIT, clock.now())
    await writer.idle()
    auth.reachable = true
    assert.ok(await tracker(), 'auth did not hear of the end')
    await clock.advanceAsync(10_000)
    assert.equal(await tracker(), undefined)

    const second = await setup()
    start(second.tap, second.clock)
    await second.writer.idle()
    second.auth.reachable = false
    second.tap.onEnd!(EXIT, second.clock.now())
    await second.clock.advanceAsync(30_000)
    second.auth.reachable = true
    const before = second.auth.calls.length
    await second.clock.advanceAsync(60_000)
    assert.equal(second.auth.calls.length, before, 'an expired tracker needs no removal')
  })

  test('closing (the node stops) removes the trackers of sessions still running and stops the renewals', async () => {
    const {clock, auth, tap, writer, tracker, writes} = await setup()
    start(tap, clock)
    await writer.idle()
    await writer.close()
    assert.equal(await tracker(), undefined)
    tap.onEnd!(EXIT, clock.now()) // the session's own end comes after
    const before = auth.calls.length
    await clock.advanceAsync(60_000)
    assert.equal(auth.calls.length, before)
    assert.equal(writes(), 1)
  })
})
