import assert from 'node:assert/strict'
import {randomUUID} from 'node:crypto'
import {mkdtempSync, readdirSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {after, before, describe, test} from 'node:test'
import {ApiClient} from '../../../src/api/client.js'
import type {AuthApi, RegisterRequest} from '../../../src/api/auth-api.js'
import {AuthApiClient} from '../../../src/api/auth-api-client.js'
import type {RunningAuthService} from '../../../src/daemon/auth/auth-service.js'
import {AccessDeniedError, BadParameterError} from '../../../src/lib/errors.js'
import {generateKeyPair, parseCert} from '../../../src/sshca/index.js'
import {startTestAuth} from '../../helpers/auth.js'

// Issue #7 items 3 and 4 over the real auth API transport: who may join under which host id and
// names, single-use tokens, presence bound to the joined key, and what a host may report.

type Key = {privateKey: string; publicKey: string}

describe('joining: host ids, names, token uses, presence and reported events', () => {
  let dataDir: string
  let service: RunningAuthService
  let admin: AuthApi
  const clients: AuthApi[] = []

  before(async () => {
    dataDir = mkdtempSync(path.join(tmpdir(), 'auth-join-'))
    ;({auth: service, admin} = await startTestAuth(dataDir))
  })
  after(async () => {
    for (const c of clients) await c.close().catch(() => {})
    await admin?.close()
    await service?.close()
    rmSync(dataDir, {recursive: true, force: true})
  })

  const client = (key: Key, certificate?: string) => {
    const api = new AuthApiClient(new ApiClient({host: '127.0.0.1', port: service.address.port, credentials: {privateKey: key.privateKey, ...(certificate ? {certificate} : {})}, trust: {insecure: true}}))
    clients.push(api)
    return api
  }
  const register = (request: Partial<RegisterRequest> & {token: string}, key: Key = generateKeyPair()) =>
    client(key).register({hostId: randomUUID(), nodeName: 'node-x', role: 'node', publicKey: key.publicKey, ...request})
  const nodeToken = async (uses?: number) => (await admin.addToken({roles: ['node'], ...(uses ? {uses} : {})})).token
  const since = new Date(Date.now() - 60_000)
  const events = (type: string) => admin.searchEvents({from: since, to: new Date(Date.now() + 60_000), types: [type]}).then((page) => page.events)

  /** node-1: joined with a single-use token, heartbeating. */
  let node1: {id: string; key: Key; api: AuthApi}
  before(async () => {
    const key = generateKeyPair()
    const id = randomUUID()
    const joined = await register({token: await nodeToken(), hostId: id, nodeName: 'node-1'}, key)
    const api = client(key, joined.certificate)
    await api.upsertNode({name: id, hostname: 'node-1', addr: '10.0.0.1:3022', labels: {}, cmdLabels: {}, version: '1'})
    node1 = {id, key, api}
  })

  test('a dynamic token lets one host join; a second host hears it was used, audited', async () => {
    const token = await nodeToken()
    await register({token, nodeName: 'first'})
    await assert.rejects(register({token, nodeName: 'second'}), (err) => err instanceof AccessDeniedError && err.message === 'join token has already been used')
    assert.ok((await events('instance.join')).some((e) => e.code === 'TJ002E' && e.node_name === 'second' && e.error === 'join token has already been used'))
    assert.ok(!(await admin.listTokens()).some((t) => t.token === token), 'a used token is no longer listed')
  })

  test('--uses=2 lets two hosts join, not three', async () => {
    const token = await nodeToken(2)
    assert.equal((await admin.listTokens()).find((t) => t.token === token)?.usesLeft, 2)
    await register({token})
    await register({token})
    await assert.rejects(register({token}), /already been used/)
  })

  test('static tokens stay as configured', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'auth-join-static-'))
    const {auth, admin: staticAdmin} = await startTestAuth(dir, {staticTokens: ['node:static-node-token-0123456789']})
    try {
      for (let i = 0; i < 3; i++) {
        const key = generateKeyPair()
        const api = new AuthApiClient(new ApiClient({host: '127.0.0.1', port: auth.address.port, credentials: {privateKey: key.privateKey}, trust: {insecure: true}}))
        await api.register({token: 'static-node-token-0123456789', hostId: randomUUID(), nodeName: `s${i}`, role: 'node', publicKey: key.publicKey}).finally(() => api.close())
      }
    } finally {
      await staticAdmin.close()
      await auth.close()
      rmSync(dir, {recursive: true, force: true})
    }
  })

  test('node-1\'s host id is never issued to another key, whatever the token and role; audited', async () => {
    const taken = (id: string) => (err: unknown) => err instanceof AccessDeniedError && err.message === `host id ${id} is already registered in the cluster` && /tctl rm node\//.test(err.hint ?? '')
    await assert.rejects(register({token: await nodeToken(), hostId: node1.id, nodeName: 'node-1'}), taken(node1.id))
    const proxyToken = (await admin.addToken({roles: ['proxy']})).token
    await assert.rejects(register({token: proxyToken, hostId: node1.id, role: 'proxy'}), taken(node1.id))
    // The auth server's own id is taken too.
    await assert.rejects(register({token: await nodeToken(), hostId: service.hostUuid}), taken(service.hostUuid))
    assert.ok((await events('instance.join')).some((e) => e.code === 'TJ002E' && e.host_id === node1.id))
    // Only token holders learn that an id is taken.
    await assert.rejects(register({token: 'f'.repeat(32), hostId: node1.id}), /^AccessDeniedError: unknown join token$/)
  })

  test('wildcard, reserved and other hosts\' names are refused; the refused token is not spent', async () => {
    const token = await nodeToken()
    const refusals: [Partial<RegisterRequest>, RegExp][] = [
      [{additionalPrincipals: ['*']}, /principal "\*" is a wildcard/],
      [{additionalPrincipals: ['auth.teleport.cluster.local']}, /reserved for the cluster's own services/],
      [{additionalPrincipals: ['example.com']}, /is the cluster name/],
      [{additionalPrincipals: ['proxy.example.com']}, /belongs to another service/],
      [{additionalPrincipals: [`${node1.id}.example.com`]}, /is the id of another host/],
      [{nodeName: node1.id}, /^BadParameterError: node name ".*" is the id of another host$/],
      [{nodeName: '*'}, /node name "\*" is a wildcard/],
      [{hostId: 'node-1'}, /host id "node-1" is not a UUID/],
    ]
    for (const [request, message] of refusals) await assert.rejects(register({token, ...request}), (err) => err instanceof BadParameterError && message.test(String(err)), JSON.stringify(request))
    const joined = await register({token, nodeName: 'node-2', additionalPrincipals: ['node-2.lan', '10.0.0.2']})
    const cert = parseCert(joined.certificate)
    assert.deepEqual(cert.principals.filter((p) => p.includes('*') || p.includes('teleport.cluster.local')), [])
    assert.ok(cert.principals.includes('node-2.lan'))
  })

  test('auth makes the host id when the joiner sends none', async () => {
    const key = generateKeyPair()
    const joined = await client(key).register({token: await nodeToken(), nodeName: 'fresh', role: 'node', publicKey: key.publicKey})
    assert.match(joined.hostId, /^[0-9a-f-]{36}$/)
    assert.equal(parseCert(joined.certificate).keyId, joined.hostId)
  })

  test('one host joins as proxy and node with one single-use token and one key', async () => {
    const token = (await admin.addToken({roles: ['node', 'proxy']})).token
    const key = generateKeyPair()
    const hostId = randomUUID()
    assert.equal(parseCert((await register({token, hostId, role: 'proxy'}, key)).certificate).hostRole, 'Proxy')
    assert.equal(parseCert((await register({token, hostId, role: 'node'}, key)).certificate).hostRole, 'Node')
    await assert.rejects(register({token, role: 'node'}), /already been used/)
  })

  test('presence: only the node with the id and the key it joined with writes its record', async () => {
    const record = {name: node1.id, hostname: 'node-1', addr: '10.6.6.6:3022', labels: {}, cmdLabels: {}, version: '1'}
    // A proxy of the same process (same id, role Proxy) may not write the node's record.
    const proxyKey = generateKeyPair()
    const proxyJoin = await register({token: (await admin.addToken({roles: ['proxy']})).token, role: 'proxy'}, proxyKey)
    await assert.rejects(client(proxyKey, proxyJoin.certificate).upsertNode({...record, name: proxyJoin.hostId}), AccessDeniedError)
    // A Node certificate for node-1's id made by an admin (tctl auth sign --host) for another key.
    const impostorKey = generateKeyPair()
    const {certificate} = await admin.signHostCert({hostId: node1.id, principals: ['node-1'], publicKey: impostorKey.publicKey})
    const impostor = client(impostorKey, certificate)
    await assert.rejects(impostor.upsertNode(record), AccessDeniedError)
    await assert.rejects(impostor.keepAliveNode(node1.id), AccessDeniedError)
    assert.equal((await admin.listNodes()).find((n) => n.name === node1.id)?.addr, '10.0.0.1:3022')
    assert.ok((await events('auth')).some((e) => e.code === 'T3007W' && e.user === `node:${node1.id}` && /not the one host .* joined with/.test(String(e.error))))
    await node1.api.keepAliveNode(node1.id)
  })

  test('tctl rm node/<id> forgets the host: its id may then join again', async () => {
    const key = generateKeyPair()
    const hostId = randomUUID()
    await register({token: await nodeToken(), hostId}, key)
    await assert.rejects(register({token: await nodeToken(), hostId}), /already registered/)
    await admin.deleteNode(hostId)
    await register({token: await nodeToken(), hostId})
    await assert.rejects(admin.deleteNode(randomUUID()), /is not found/)
    await assert.rejects(node1.api.deleteNode(node1.id), AccessDeniedError)
  })

  test('reported events: only the types a node emits, server_id forced, time within a window', async () => {
    const post = (event: Record<string, unknown>) => node1.api.emitEvent(event)
    await assert.rejects(post({event: 'user.login', code: 'T1000I', user: 'admin', success: true}), AccessDeniedError)
    await assert.rejects(post({event: 'instance.join', code: 'TJ002I'}), AccessDeniedError)
    assert.ok((await events('auth')).some((e) => e.user === `node:${node1.id}` && e.action === 'create event' && /code "T1000I"/.test(String(e.error))))
    assert.ok(!(await events('user.login')).some((e) => e.user === 'admin'))

    const hourAgo = new Date(Date.now() - 3600_000).toISOString()
    await post({event: 'session.start', code: 'T2000I', sid: 'held', user: 'alice', server_id: 'someone-else', time: hourAgo})
    await post({event: 'session.start', code: 'T2000I', sid: 'ancient', user: 'alice', time: '1969-12-31T23:59:59.000Z'})
    await post({event: 'session.start', code: 'T2000I', sid: 'last-week', user: 'alice', time: new Date(Date.now() - 7 * 24 * 3600_000).toISOString(), reported_time: 'forged'})
    const found = (await admin.searchEvents({from: new Date(Date.now() - 2 * 3600_000), to: new Date(Date.now() + 60_000), types: ['session.start']})).events
    const held = found.find((e) => e.sid === 'held')!
    assert.equal(held.time, hourAgo)
    assert.equal(held.server_id, node1.id)
    assert.equal(held.reported_time, undefined)
    const ancient = found.find((e) => e.sid === 'ancient')!
    assert.equal(ancient.reported_time, '1969-12-31T23:59:59.000Z')
    assert.ok(new Date(ancient.time).getTime() >= since.getTime(), 'filed at its arrival')
    assert.notEqual(found.find((e) => e.sid === 'last-week')?.reported_time, 'forged')
    assert.ok(!readdirSync(path.join(dataDir, 'log')).some((f) => f.startsWith('1969')), 'no day file from 1969')

    // A proxy reports what a node does (in recording proxy mode it runs the sessions' audit), and nothing else.
    const proxyKey = generateKeyPair()
    const proxyJoin = await register({token: (await admin.addToken({roles: ['proxy']})).token, role: 'proxy'}, proxyKey)
    const proxy = client(proxyKey, proxyJoin.certificate)
    await proxy.emitEvent({event: 'subsystem', code: 'T3001E', name: 'proxy:x', error: 'no such node'})
    await proxy.emitEvent({event: 'session.start', code: 'T2000I', sid: 'from-proxy'})
    await assert.rejects(proxy.emitEvent({event: 'user.login', code: 'T1000I', user: 'admin', success: true}), AccessDeniedError)
  })
})
