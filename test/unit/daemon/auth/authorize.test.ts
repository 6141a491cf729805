import {afterEach, describe, test} from 'node:test'
import assert from 'node:assert/strict'
import type {ApiIdentity} from '../../../../src/api/identity.js'
import {authorize, authorizeSessionRead, currentUserAccess, sessionAccess} from '../../../../src/daemon/auth/authorize.js'
import {EventCode, EventName, MemoryAuditLog} from '../../../../src/events/index.js'
import {AccessDeniedError} from '../../../../src/lib/errors.js'
import type {ParsedCert} from '../../../../src/sshca/index.js'
import {generateKeyPair} from '../../../../src/sshca/index.js'
import {memoryAuthServer, type MemoryAuthServer} from '../../../helpers/memory-auth-server.js'

// Authorization on the auth API against the user's record as it is now, and against locks.

const open: MemoryAuthServer[] = []
afterEach(async () => {
  for (const server of open.splice(0)) await server.close()
})

async function cluster() {
  const server = await memoryAuthServer()
  open.push(server)
  const {clock, audit, auth} = server
  const admin = {user: 'admin'}
  await auth.createUser({name: 'eve', roles: ['editor'], traits: {}}, admin)
  return {clock, audit, auth, admin}
}

/** What the auth API sees for a certificate issued to `username` naming `roles`. */
function userIdentity(username: string, roles: string[]): Extract<ApiIdentity, {kind: 'user'}> {
  return {kind: 'user', username, roles, traits: {}, remoteAddr: '192.0.2.7', cert: {} as ParsedCert}
}

function hostIdentity(role: 'Node' | 'Proxy' | 'Admin', hostId = 'host-1'): ApiIdentity {
  return {kind: 'host', hostId, role, remoteAddr: '192.0.2.8', cert: {} as ParsedCert}
}

const createUser = {resource: 'user', verb: 'create'} as const
const createToken = {resource: 'token', verb: 'create'} as const

function refusals(audit: MemoryAuditLog) {
  return audit.all().filter((e) => e.code === 'T3007W')
}

describe('auth API authorization: the current record, not the certificate', () => {
  test('an editor may create users and tokens; demoted, the old certificate may not (audited)', async () => {
    const {auth, audit, admin} = await cluster()
    const eve = userIdentity('eve', ['editor'])
    await authorize(auth, eve, createUser)
    await authorize(auth, eve, createToken)
    await auth.upsertUser({name: 'eve', roles: ['access'], traits: {}}, false, admin)
    await assert.rejects(authorize(auth, eve, createUser), AccessDeniedError)
    await assert.rejects(authorize(auth, eve, createToken), AccessDeniedError)
    const events = refusals(audit)
    assert.equal(events.length, 2)
    assert.equal(events[0]!.user, 'eve')
    assert.equal(events[0]!.action, 'create user')
    assert.match(String(events[0]!.error), /no role allows create on user/)
  })

  test('a deleted user is refused everything, even reading the CA keys, audited as such', async () => {
    const {auth, audit, admin} = await cluster()
    await auth.deleteUser('eve', admin)
    const eve = userIdentity('eve', ['editor'])
    for (const action of [createUser, createToken, {resource: 'cert_authority', verb: 'read'} as const]) {
      await assert.rejects(authorize(auth, eve, action), AccessDeniedError)
    }
    await assert.rejects(currentUserAccess(auth, eve, {resource: 'node', verb: 'list'}), AccessDeniedError)
    const events = refusals(audit)
    assert.equal(events.length, 4)
    assert.ok(events.every((e) => e.error === 'user "eve" no longer exists'))
  })

  test("a locked user, or one holding a locked role, is told the lock's message", async () => {
    const {auth, admin, audit} = await cluster()
    const eve = userIdentity('eve', ['editor'])
    const lock = await auth.createLock({target: {user: 'eve'}, message: 'call security'}, admin)
    await assert.rejects(authorize(auth, eve, createUser), {name: 'AccessDeniedError', message: 'lock targeting User:"eve" is in force: call security'})
    await auth.deleteLock(lock.metadata.name, admin)
    await authorize(auth, eve, createUser)
    await auth.createLock({target: {role: 'editor'}}, admin)
    await assert.rejects(authorize(auth, eve, createUser), {message: 'lock targeting Role:"editor" is in force'})
    assert.equal(refusals(audit).length, 2)
    assert.deepEqual(audit.all().filter((e) => e.event.startsWith('lock.')).map((e) => [e.event, e.code, e.user]), [
      ['lock.created', 'T9006I', 'admin'],
      ['lock.deleted', 'T9007I', 'admin'],
      ['lock.created', 'T9006I', 'admin'],
    ])
  })

  test('a locked user gets no certificate', async () => {
    const {auth, admin} = await cluster()
    await auth.upsertUser({name: 'eve', roles: ['access'], traits: {logins: ['eve']}}, false, admin)
    await auth.createLock({target: {user: 'eve'}, message: 'on leave'}, admin)
    await assert.rejects(auth.issueUserCert({username: 'eve', publicKey: generateKeyPair().publicKey}, admin), {message: 'lock targeting User:"eve" is in force: on leave'})
  })

  test('nodes and proxies may read locks and whether a user exists, nothing more; users may not ask', async () => {
    const {auth} = await cluster()
    for (const host of [hostIdentity('Node'), hostIdentity('Proxy')]) {
      await authorize(auth, host, {resource: 'lock', verb: 'list'})
      await authorize(auth, host, {resource: 'user_status', verb: 'read'})
      await assert.rejects(authorize(auth, host, {resource: 'lock', verb: 'create'}), AccessDeniedError)
      await assert.rejects(authorize(auth, host, {resource: 'user', verb: 'read'}), AccessDeniedError)
    }
    await assert.rejects(authorize(auth, userIdentity('eve', ['editor']), {resource: 'user_status', verb: 'read'}), AccessDeniedError)
  })

  test('only the node (or recording proxy) whose session.start is in the log may upload a recording; other hosts and users never', async () => {
    const {auth, audit, admin} = await cluster()
    const sid = '0f8e2c1a-3b4d-4e5f-8a9b-0c1d2e3f4a5b'
    const upload = {resource: 'recording', verb: 'upload', sid} as const
    await assert.rejects(authorize(auth, hostIdentity('Node'), upload), /host host-1 did not run session/)
    await auth.emit(EventName.SessionStart, EventCode.SessionStart, {sid, server_id: 'host-1'})
    await authorize(auth, hostIdentity('Node'), upload)
    // Recording proxy mode: the proxy that reported the session.start records it.
    await authorize(auth, hostIdentity('Proxy'), upload)
    await assert.rejects(authorize(auth, hostIdentity('Proxy', 'proxy-2'), upload), /host proxy-2 did not run session/)
    await assert.rejects(authorize(auth, hostIdentity('Admin'), upload), /a Admin host may not upload session recordings/)
    await auth.upsertUser({name: 'eve', roles: ['editor', 'auditor'], traits: {}}, false, admin)
    await assert.rejects(authorize(auth, userIdentity('eve', ['editor', 'auditor']), upload), AccessDeniedError)
    await authorize(auth, userIdentity('eve', ['editor', 'auditor']), {resource: 'session', verb: 'read'})
    assert.equal(refusals(audit).length, 4)
  })
})

describe('rules with a where on the user', () => {
  test('a condition on the user is decided with the user record as it is now', async () => {
    const {auth, admin} = await cluster()
    const role = (name: string, spec: unknown) => auth.upsertRole({kind: 'role', version: 'v5', metadata: {name}, spec}, true, admin)
    await role('user-lister', {allow: {rules: [{resources: ['user'], verbs: ['list'], where: 'contains(user.spec.roles, "ops")'}]}})
    await role('ops', {})
    await auth.createUser({name: 'olga', roles: ['user-lister'], traits: {}}, admin)
    const olga = userIdentity('olga', ['user-lister'])
    await assert.rejects(authorize(auth, olga, {resource: 'user', verb: 'list'}), AccessDeniedError)
    await auth.upsertUser({name: 'olga', roles: ['user-lister', 'ops'], traits: {}}, false, admin)
    await authorize(auth, olga, {resource: 'user', verb: 'list'})
  })
})

describe('sessions: who may list and read them', () => {
  const HERS = '11111111-2222-4333-8444-555555555555'
  const BOBS = '22222222-3333-4444-8555-666666666666'
  const JOINED = '33333333-4444-4555-8666-777777777777'
  const UNKNOWN = '44444444-5555-4666-8777-888888888888'

  async function sessions() {
    const {auth, audit, admin} = await cluster()
    await auth.createUser({name: 'amy', roles: ['access'], traits: {}}, admin)
    await auth.createUser({name: 'ann', roles: ['auditor'], traits: {}}, admin)
    await auth.emit(EventName.SessionEnd, EventCode.SessionEnd, {sid: HERS, user: 'bob', participants: ['bob', 'amy']})
    await auth.emit(EventName.SessionEnd, EventCode.SessionEnd, {sid: BOBS, user: 'bob', participants: ['bob']})
    // Still running: no session.end yet, amy joined it.
    await auth.emit(EventName.SessionStart, EventCode.SessionStart, {sid: JOINED, user: 'bob'})
    await auth.emit(EventName.SessionJoin, EventCode.SessionJoin, {sid: JOINED, user: 'amy'})
    return {auth, audit, admin}
  }

  test('an auditor and the Admin identity may list and read every session, even one the log does not know', async () => {
    const {auth, audit} = await sessions()
    for (const identity of [userIdentity('ann', ['auditor']), hostIdentity('Admin')]) {
      assert.deepEqual(await sessionAccess(auth, identity, 'list'), {all: true})
      for (const sid of [HERS, BOBS, UNKNOWN]) await authorizeSessionRead(auth, identity, sid)
    }
    assert.equal(refusals(audit).length, 0)
  })

  test('an access user lists and reads only the sessions it took part in; another is refused by sid, audited', async () => {
    const {auth, audit} = await sessions()
    const amy = userIdentity('amy', ['access'])
    const access = await sessionAccess(auth, amy, 'list')
    assert.equal(access.all, false)
    if (access.all) return
    assert.equal(access.decide({participants: ['bob', 'amy'], user: 'bob'}).allowed, true)
    assert.equal(access.decide({participants: ['bob'], user: 'bob'}).allowed, false)
    await authorizeSessionRead(auth, amy, HERS)
    await authorizeSessionRead(auth, amy, JOINED)
    for (const sid of [BOBS, UNKNOWN]) {
      await assert.rejects(authorizeSessionRead(auth, amy, sid), {name: 'AccessDeniedError', message: `access denied to read session ${sid}`})
    }
    const events = refusals(audit)
    assert.equal(events.length, 2)
    assert.equal(events[0]!.user, 'amy')
    assert.equal(events[0]!.action, 'read session')
    assert.equal(events[0]!.success, false)
    assert.match(String(events[0]!.error), new RegExp(`^session ${BOBS}: no role allows read on session here: role "access" allows it only where contains`))
    assert.equal(events[1]!.error, `session ${UNKNOWN}: the audit log has no event of it`)
  })

  test('a user with no session rule is refused listing and reading, audited; so are nodes', async () => {
    const {auth, audit} = await sessions()
    const eve = userIdentity('eve', ['editor'])
    await assert.rejects(sessionAccess(auth, eve, 'list'), {name: 'AccessDeniedError', message: 'access denied to perform action "list" on "session"'})
    await assert.rejects(authorizeSessionRead(auth, eve, HERS), {name: 'AccessDeniedError', message: 'access denied to perform action "read" on "session"'})
    await assert.rejects(sessionAccess(auth, hostIdentity('Node'), 'list'), AccessDeniedError)
    const events = refusals(audit)
    assert.deepEqual(events.map((e) => [e.user, e.action]), [['eve', 'list session'], ['eve', 'read session'], ['node:host-1', 'list session']])
    assert.equal(events[0]!.error, 'no role allows list on session')
  })

  test('the roles of the record now decide, not the certificate: amy demoted to editor loses her sessions', async () => {
    const {auth, admin} = await sessions()
    const amy = userIdentity('amy', ['access'])
    await authorizeSessionRead(auth, amy, HERS)
    await auth.upsertUser({name: 'amy', roles: ['editor'], traits: {}}, false, admin)
    await assert.rejects(authorizeSessionRead(auth, amy, HERS), AccessDeniedError)
    await auth.upsertUser({name: 'amy', roles: ['editor', 'auditor'], traits: {}}, false, admin)
    await authorizeSessionRead(auth, amy, BOBS)
  })
})
