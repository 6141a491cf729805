import assert from 'node:assert/strict'
import {afterEach, describe, test} from 'node:test'
import {AuthApiClient} from '../../../src/api/auth-api-client.js'
import type {ApiIdentity} from '../../../src/api/identity.js'
import {MemoryTransport} from '../../../src/api/memory-transport.js'
import {authApiRoutes} from '../../../src/daemon/auth/api-routes.js'
import {EventCode, EventName} from '../../../src/events/index.js'
import {AccessDeniedError} from '../../../src/lib/errors.js'
import type {ParsedCert} from '../../../src/sshca/index.js'
import {memoryAuthApi, type MemoryAuthApi} from '../../helpers/memory-auth-api.js'

// The audit log through the auth API: who may search it (tctl's Admin identity, the auditor
// role), and the query's filters and paging as a caller sees them.

const open: MemoryAuthApi[] = []
afterEach(async () => {
  for (const memory of open.splice(0)) await memory.close()
})

function userIdentity(username: string, roles: string[]): ApiIdentity {
  return {kind: 'user', username, roles, traits: {}, remoteAddr: '192.0.2.7', cert: {} as ParsedCert}
}

/** A cluster with three logins a minute apart (alice, bob, alice) and users of each role. */
async function cluster() {
  const memory = await memoryAuthApi()
  open.push(memory)
  const {auth, clock} = memory
  const start = clock.now()
  for (const user of ['alice', 'bob', 'alice']) {
    await auth.emit(EventName.UserLogin, EventCode.UserLogin, {user, method: 'local', success: true})
    clock.advance(60_000)
  }
  for (const [name, roles] of [['ann', ['auditor']], ['sam', ['access']]] as const) await auth.createUser({name, roles: [...roles], traits: {}}, {user: 'admin'})
  const as = (identity: ApiIdentity) => new AuthApiClient(new MemoryTransport(authApiRoutes(auth), identity))
  return {memory, range: {from: start, to: clock.now()}, as}
}

describe('auth API: searching the audit log', () => {
  test('the Admin identity finds events newest first, by user, a page at a time', async () => {
    const {memory, range} = await cluster()
    const logins = {...range, types: [EventName.UserLogin], order: 'desc' as const}
    const all = await memory.api.searchEvents(logins)
    assert.deepEqual(all.events.map((e) => e.user), ['alice', 'bob', 'alice'])
    assert.equal(all.nextKey, undefined)
    assert.deepEqual((await memory.api.searchEvents({...logins, user: 'bob'})).events.map((e) => e.user), ['bob'])
    const first = await memory.api.searchEvents({...logins, limit: 2})
    assert.equal(first.events.length, 2)
    assert.ok(first.nextKey)
    const second = await memory.api.searchEvents({...logins, limit: 2, startKey: first.nextKey})
    assert.deepEqual([...first.events, ...second.events].map((e) => e.uid), all.events.map((e) => e.uid))
    assert.equal(second.nextKey, undefined)
  })

  test('an auditor may search; an access user is refused with a clear line, and the refusal is audited', async () => {
    const {memory, range, as} = await cluster()
    const found = await as(userIdentity('ann', ['auditor'])).searchEvents({...range, types: [EventName.UserLogin]})
    assert.equal(found.events.length, 3)
    await assert.rejects(as(userIdentity('sam', ['access'])).searchEvents(range), (err: Error) => {
      assert.ok(err instanceof AccessDeniedError)
      assert.equal(err.message, 'access denied to perform action "list" on "event"')
      return true
    })
    const refusals = memory.audit.all().filter((e) => e.code === EventCode.AuthAttemptFailure)
    assert.deepEqual(
      refusals.map((e) => [e.user, e.action, e.error]),
      [['sam', 'list event', 'no role allows list on event']],
    )
  })

  test('a node may not search the log', async () => {
    const {range, as} = await cluster()
    const node: ApiIdentity = {kind: 'host', hostId: 'node-1', role: 'Node', remoteAddr: '192.0.2.8', cert: {} as ParsedCert}
    await assert.rejects(as(node).searchEvents(range), AccessDeniedError)
  })

  test('a page key that was not handed out is refused as a bad parameter', async () => {
    const {memory, range} = await cluster()
    await assert.rejects(memory.api.searchEvents({...range, startKey: 'garbage'}), /page key/)
  })
})
