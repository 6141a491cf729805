import assert from 'node:assert/strict'
import {afterEach, describe, test} from 'node:test'
import {AuthApiClient} from '../../../../src/api/auth-api-client.js'
import type {ApiIdentity} from '../../../../src/api/identity.js'
import {MemoryTransport} from '../../../../src/api/memory-transport.js'
import {authApiRoutes} from '../../../../src/daemon/auth/api-routes.js'
import type {SessionTrackerUpdate} from '../../../../src/services/session-trackers.js'
import {newRole} from '../../../../src/services/models/role.js'
import type {ParsedCert} from '../../../../src/sshca/index.js'
import {memoryAuthServer, type MemoryAuthServer} from '../../../helpers/memory-auth-server.js'

// The live-session routes through the real router and authorization, each caller as its own
// identity: a node writes only trackers of its own sessions; users see the sessions their roles
// let them see (the Admin identity and auditors all, access users those they started or are in);
// an unseen session is answered as an unknown one; refusals are audited.

const open: MemoryAuthServer[] = []
afterEach(async () => {
  for (const server of open.splice(0)) await server.close()
})

const NODE_1 = 'c0ffee00-0000-4000-8000-000000000001'
const NODE_2 = 'c0ffee00-0000-4000-8000-000000000002'
const ALICES = '11111111-2222-4333-8444-555555555555'
const BOBS = '22222222-3333-4444-8555-666666666666'
const UNKNOWN = '44444444-5555-4666-8777-888888888888'

function host(hostId: string, role: 'Node' | 'Proxy' | 'Admin'): ApiIdentity {
  return {kind: 'host', hostId, role, remoteAddr: '10.0.0.5', cert: {} as ParsedCert}
}

function user(username: string): ApiIdentity {
  return {kind: 'user', username, roles: [], traits: {}, remoteAddr: '192.0.2.7', cert: {} as ParsedCert}
}

function tracker(owner: string, extra: Partial<SessionTrackerUpdate> = {}): SessionTrackerUpdate {
  const now = '2026-01-01T00:00:00.000Z'
  return {kind: 'ssh', state: 'RUNNING', created: now, hostname: 'node-1', address: '0.0.0.0:3022', clusterName: 'forged', user: owner, login: 'root', participants: [{user: owner, mode: 'peer', lastActive: now}], ...extra}
}

async function cluster() {
  const server = await memoryAuthServer()
  open.push(server)
  const {auth} = server
  const admin = {user: 'admin'}
  for (const [name, roles] of [['alice', ['access']], ['bob', ['access']], ['carol', ['access']], ['ann', ['auditor']], ['eve', ['editor']]] as const) {
    await auth.createUser({name, roles: [...roles], traits: {}}, admin)
  }
  const as = (identity: ApiIdentity) => new AuthApiClient(new MemoryTransport(authApiRoutes(auth), identity, (err) => {
    throw err
  }))
  const refusals = () => server.audit.all().filter((e) => e.code === 'T3007W')
  return {...server, as, refusals}
}

describe('session tracker routes', () => {
  test('the node writes its session: hostId and cluster are auth\'s, 0.0.0.0 becomes the address it called from', async () => {
    const {as, clock} = await cluster()
    const written = await as(host(NODE_1, 'Node')).upsertSessionTracker(ALICES, tracker('alice', {hostId: NODE_2} as Partial<SessionTrackerUpdate>))
    assert.equal(written.hostId, NODE_1)
    assert.equal(written.clusterName, 'example.com')
    assert.equal(written.address, '10.0.0.5:3022')
    assert.equal(Date.parse(written.expires) - clock.now().getTime(), 30_000)
    const [listed] = await as(host('admin-host', 'Admin')).listSessionTrackers()
    assert.deepEqual(listed, written)
  })

  test('another node or a proxy may neither overwrite nor remove it; users write none; all audited', async () => {
    const {as, refusals} = await cluster()
    await as(host(NODE_1, 'Node')).upsertSessionTracker(ALICES, tracker('alice'))
    const intruder = as(host(NODE_2, 'Node'))
    await assert.rejects(intruder.upsertSessionTracker(ALICES, tracker('mallory')), {name: 'AccessDeniedError', message: `access denied: session ${ALICES} runs on another host, not on ${NODE_2}`})
    await assert.rejects(intruder.removeSessionTracker(ALICES), {name: 'AccessDeniedError'})
    const proxy = as(host('proxy-1', 'Proxy'))
    await assert.rejects(proxy.upsertSessionTracker(ALICES, tracker('bob')), {name: 'AccessDeniedError', message: `access denied: session ${ALICES} runs on another host, not on proxy-1`})
    // A recording proxy keeps the trackers of the sessions it runs on plain sshd nodes.
    await proxy.upsertSessionTracker(BOBS, tracker('bob'))
    await proxy.removeSessionTracker(BOBS)
    await assert.rejects((as(user('alice')) as unknown as AuthApiClient).upsertSessionTracker(BOBS, tracker('alice')), {name: 'AccessDeniedError'})
    const [kept] = await as(host('admin-host', 'Admin')).listSessionTrackers()
    assert.equal(kept?.user, 'alice')
    assert.equal(kept?.hostId, NODE_1)
    assert.deepEqual(refusals().map((e) => [e.user, e.action]), [
      [`node:${NODE_2}`, 'update session_tracker'],
      [`node:${NODE_2}`, 'delete session_tracker'],
      ['proxy:proxy-1', 'update session_tracker'],
      ['alice', 'update session_tracker'],
    ])
    await as(host(NODE_1, 'Node')).removeSessionTracker(ALICES)
    assert.deepEqual(await as(host('admin-host', 'Admin')).listSessionTrackers(), [])
  })

  test('only a recording proxy names the node it holds a session for (serverId); a node may not', async () => {
    const {as} = await cluster()
    const written = await as(host('proxy-1', 'Proxy')).upsertSessionTracker(BOBS, tracker('bob', {serverId: NODE_2}))
    assert.deepEqual([written.hostId, written.serverId], ['proxy-1', NODE_2])
    await assert.rejects(as(host(NODE_1, 'Node')).upsertSessionTracker(ALICES, tracker('alice', {serverId: NODE_2})), {name: 'AccessDeniedError', message: /only a recording proxy may write the tracker of a session on another node/})
    await assert.rejects(as(host('proxy-1', 'Proxy')).upsertSessionTracker(ALICES, tracker('alice', {serverId: 'a b'})), {name: 'BadParameterError', message: /session tracker: serverId is not a node name/})
    assert.deepEqual((await as(host('admin-host', 'Admin')).listSessionTrackers()).map((t) => t.sessionId), [BOBS])
  })

  test('a bad tracker is refused with the field named; a bad sid before anything is read', async () => {
    const {as} = await cluster()
    const node = as(host(NODE_1, 'Node'))
    await assert.rejects(node.upsertSessionTracker(ALICES, tracker('alice', {login: 'a b'})), {name: 'BadParameterError', message: /session tracker: login must be a login/})
    await assert.rejects(node.upsertSessionTracker('../../x', tracker('alice')), {name: 'BadParameterError', message: /is not a lowercase UUID/})
  })

  test('users see what their roles show: auditors all, access users the sessions they started or are in', async () => {
    const {as} = await cluster()
    const node = as(host(NODE_1, 'Node'))
    await node.upsertSessionTracker(ALICES, tracker('alice'))
    await node.upsertSessionTracker(BOBS, tracker('bob', {participants: [{user: 'bob', mode: 'peer', lastActive: '2026-01-01T00:00:00.000Z'}, {user: 'carol', mode: 'observer', lastActive: '2026-01-01T00:00:00.000Z'}]}))
    const sids = async (username: string) => (await as(user(username)).listSessionTrackers()).map((t) => t.sessionId)
    assert.deepEqual(await sids('ann'), [ALICES, BOBS])
    assert.deepEqual(await sids('alice'), [ALICES])
    assert.deepEqual(await sids('bob'), [BOBS])
    assert.deepEqual(await sids('carol'), [BOBS], 'carol is a participant of bob\'s session')
    assert.equal((await as(user('ann')).getSessionTracker(ALICES)).user, 'alice')
    assert.equal((await as(user('carol')).getSessionTracker(BOBS)).user, 'bob')
  })

  test('an unseen session and an unknown one get the same NotFound, audited; a user with no session rule is refused', async () => {
    const {as, refusals} = await cluster()
    await as(host(NODE_1, 'Node')).upsertSessionTracker(BOBS, tracker('bob'))
    const alice = as(user('alice'))
    const unseen = await alice.getSessionTracker(BOBS).catch((err: Error) => err)
    const unknown = await alice.getSessionTracker(UNKNOWN).catch((err: Error) => err)
    assert.equal((unseen as Error).name, 'NotFoundError')
    assert.equal((unseen as Error).message.replace(BOBS, 'SID'), (unknown as Error).message.replace(UNKNOWN, 'SID'))
    await assert.rejects(as(user('ann')).getSessionTracker(UNKNOWN), {name: 'NotFoundError'})
    await assert.rejects(as(user('eve')).listSessionTrackers(), {name: 'AccessDeniedError', message: 'access denied to perform action "list" on "session"'})
    await assert.rejects(as(host(NODE_1, 'Node')).listSessionTrackers(), {name: 'AccessDeniedError'})
    assert.deepEqual(refusals().map((e) => [e.user, e.action, e.error]), [
      ['alice', 'read session', `session ${BOBS}: no role allows reading this live session`],
      ['alice', 'read session', `session ${UNKNOWN}: no such live session`],
      ['eve', 'list session', 'no role allows list on session'],
      [`node:${NODE_1}`, 'list session', 'a Node host may not list session'],
    ])
  })

  test('a demoted user loses the sessions at once; a crashed node\'s session leaves the list when its tracker expires', async () => {
    const {as, auth, clock} = await cluster()
    await as(host(NODE_1, 'Node')).upsertSessionTracker(BOBS, tracker('bob'))
    await auth.upsertUser({name: 'ann', roles: ['access'], traits: {}}, false, {user: 'admin'})
    assert.deepEqual(await as(user('ann')).listSessionTrackers(), [])
    clock.advance(29_999)
    assert.equal((await as(user('bob')).listSessionTrackers()).length, 1)
    clock.advance(1)
    assert.deepEqual(await as(user('bob')).listSessionTrackers(), [])
    await assert.rejects(as(user('bob')).getSessionTracker(BOBS), {name: 'NotFoundError'})
  })
})

describe('session tracker routes: join_sessions', () => {
  test('a user whose role may join access users\' sessions sees them, and no others; without any session rule they are not refused', async () => {
    const {auth, as, refusals} = await cluster()
    await auth.roles.upsert(newRole('watch-access', {allow: {join_sessions: [{name: 'watch', roles: ['access'], kinds: ['ssh'], modes: ['observer']}]}} as never))
    await auth.roles.upsert(newRole('ops', {allow: {logins: ['root']}}))
    await auth.createUser({name: 'wendy', roles: ['watch-access'], traits: {}}, {user: 'admin'})
    await auth.createUser({name: 'olga', roles: ['ops'], traits: {}}, {user: 'admin'})
    const node = as(host(NODE_1, 'Node'))
    await node.upsertSessionTracker(ALICES, tracker('alice'))
    await node.upsertSessionTracker(BOBS, tracker('olga'))
    const seen = await as(user('wendy')).listSessionTrackers()
    assert.deepEqual(seen.map((t) => t.user), ['alice'])
    assert.equal((await as(user('wendy')).getSessionTracker(ALICES)).user, 'alice')
    await assert.rejects(as(user('wendy')).getSessionTracker(BOBS), {name: 'NotFoundError'})
    assert.deepEqual(refusals().filter((e) => e.action === 'list session'), [])
  })
})
