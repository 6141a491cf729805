import assert from 'node:assert/strict'
import {mkdtempSync, readFileSync, rmSync, statSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {after, before, describe, test} from 'node:test'
import {ApiClient} from '../../../src/api/client.js'
import {adminApi, testAuthConfig} from '../../helpers/auth.js'
import type {AuthApi} from '../../../src/api/auth-api.js'
import {AuthApiClient} from '../../../src/api/auth-api-client.js'
import {readIdentityFile} from '../../../src/api/identity-file.js'
import {startAuthService, type RunningAuthService} from '../../../src/daemon/auth/auth-service.js'
import {dataDirPaths} from '../../../src/config/data-dir.js'
import {AccessDeniedError, AlreadyExistsError} from '../../../src/lib/errors.js'
import {generateTotpCode} from '../../../src/services/index.js'
import {caPin, generateKeyPair, parseCert} from '../../../src/sshca/index.js'

// The auth service on a real SQLite store and audit log in a temp data dir, driven over its
// real API transport with the identities it writes.

const logs: string[] = []
const config = (dataDir: string) => testAuthConfig(dataDir, {staticTokens: ['node:static-node-token-0123456789'], log: (line) => logs.push(line)})

describe('auth service', () => {
  let dataDir: string
  let service: RunningAuthService
  let admin: AuthApi

  before(async () => {
    dataDir = mkdtempSync(path.join(tmpdir(), 'auth-'))
    service = await startAuthService(config(dataDir))
    admin = adminApi(dataDir, service.address.port)
  })
  after(async () => {
    await admin?.close()
    await service?.close()
    rmSync(dataDir, {recursive: true, force: true})
  })

  test('first start makes the CAs and the admin identity, files private', async () => {
    const status = await admin.status()
    assert.equal(status.clusterName, 'example.com')
    assert.deepEqual(status.authorities.map((a) => a.type), ['user', 'host'])
    assert.match(status.caPins[0], /^sha256:[0-9a-f]{64}$/)
    const paths = dataDirPaths(dataDir)
    assert.equal(statSync(paths.adminIdentity).mode & 0o777, 0o600)
    assert.equal(statSync(paths.backend).mode & 0o777, 0o600)
    assert.equal(readIdentityFile(paths.adminIdentity).cert.hostRole, 'Admin')
  })

  test('users: create with an invite link on the proxy address; duplicate refused', async () => {
    const {user, invite} = await admin.createUser({name: 'alice', roles: ['access'], traits: {logins: ['alice', 'root']}})
    assert.equal(user.name, 'alice')
    assert.match(invite.url, /^https:\/\/proxy\.example\.com:3080\/web\/invite\/[0-9a-f]{32}$/)
    await assert.rejects(admin.createUser({name: 'alice', roles: ['access'], traits: {}}), AlreadyExistsError)
    assert.deepEqual((await admin.listUsers()).map((u) => u.name), ['alice'])
  })

  test('tctl auth sign --user: logins from the roles and traits', async () => {
    const key = generateKeyPair()
    const signed = await admin.signUserCert({username: 'alice', publicKey: key.publicKey, ttlMs: 3600_000})
    const cert = parseCert(signed.certificate)
    assert.equal(cert.keyId, 'alice')
    assert.deepEqual(cert.principals.sort(), ['alice', 'root'])
    assert.deepEqual(cert.roles, ['access'])
  })

  test('a node joins with a token and the CA pin, then may not add users (403, audited)', async () => {
    const {token} = await admin.addToken({roles: ['node'], ttlMs: 5 * 60_000})
    const pin = (await admin.ping()).caPins[0]
    const nodeKey = generateKeyPair()
    const joining = new AuthApiClient(new ApiClient({host: '127.0.0.1', port: service.address.port, credentials: {privateKey: nodeKey.privateKey}, trust: {caPins: [pin]}}))
    const joined = await joining.register({token, hostId: '11111111-2222-3333-4444-555555555555', nodeName: 'node-1', role: 'node', publicKey: nodeKey.publicKey})
    await joining.close()
    assert.equal(parseCert(joined.certificate).hostRole, 'Node')
    assert.equal(caPin(joined.hostCAs[0]), pin)

    const node = new AuthApiClient(new ApiClient({host: '127.0.0.1', port: service.address.port, credentials: {privateKey: nodeKey.privateKey, certificate: joined.certificate}, trust: {hostCAs: joined.hostCAs}}))
    try {
      await node.upsertNode({name: '11111111-2222-3333-4444-555555555555', hostname: 'node-1', addr: '127.0.0.1:3022', labels: {env: 'test'}, cmdLabels: {}, version: '0.1.0'})
      await assert.rejects(node.createUser({name: 'mallory', roles: ['editor'], traits: {}}), AccessDeniedError)
      await assert.rejects(node.upsertNode({name: 'someone-else', hostname: 'x', addr: '', labels: {}, cmdLabels: {}, version: ''}), AccessDeniedError)
      // A node is no proxy, not even under its own id.
      await assert.rejects(node.upsertProxy({name: '11111111-2222-3333-4444-555555555555', hostname: 'node-1', addr: '127.0.0.1:3023', publicAddr: '127.0.0.1:3080', version: ''}), AccessDeniedError)
    } finally {
      await node.close()
    }
    const denied = (await admin.searchEvents({from: new Date(Date.now() - 60_000), to: new Date(Date.now() + 60_000), types: ['auth']})).events
    assert.ok(denied.some((e) => e.code === 'T3007W' && String(e.user).startsWith('node:') && e.action === 'create user'), JSON.stringify(denied))
    assert.deepEqual((await admin.listNodes()).map((n) => n.hostname), ['node-1'])
  })

  test('a proxy announces itself (0.0.0.0 filled in with its address), lists the proxies, removes its own record and no other', async () => {
    const {token} = await admin.addToken({roles: ['proxy'], ttlMs: 5 * 60_000})
    const pin = (await admin.ping()).caPins[0]
    const key = generateKeyPair()
    const id = '99999999-2222-3333-4444-555555555555'
    const joining = new AuthApiClient(new ApiClient({host: '127.0.0.1', port: service.address.port, credentials: {privateKey: key.privateKey}, trust: {caPins: [pin]}}))
    const joined = await joining.register({token, hostId: id, nodeName: 'proxy-1', role: 'proxy', publicKey: key.publicKey})
    await joining.close()
    const proxy = new AuthApiClient(new ApiClient({host: '127.0.0.1', port: service.address.port, credentials: {privateKey: key.privateKey, certificate: joined.certificate}, trust: {hostCAs: joined.hostCAs}}))
    try {
      const announced = await proxy.upsertProxy({name: id, hostname: 'proxy-1', addr: '0.0.0.0:3023', publicAddr: 'proxy.example.com:443', version: '1.0.0'})
      assert.equal(announced.addr, '127.0.0.1:3023')
      assert.ok(Date.parse(announced.expires) > Date.now())
      await assert.rejects(proxy.upsertProxy({...announced, name: 'another-proxy'}), AccessDeniedError)
      assert.deepEqual((await proxy.listProxies()).map((p) => [p.name, p.publicAddr]), [[id, 'proxy.example.com:443']])
      assert.deepEqual((await admin.listProxies()).map((p) => p.hostname), ['proxy-1'])
      await proxy.keepAliveProxy(id)
      await assert.rejects(proxy.deleteProxy('another-proxy'), AccessDeniedError)
      await proxy.deleteProxy(id)
      assert.deepEqual(await admin.listProxies(), [])
    } finally {
      await proxy.close()
    }
  })

  test('a used-up or unknown token is refused and audited', async () => {
    const key = generateKeyPair()
    const joining = new AuthApiClient(new ApiClient({host: '127.0.0.1', port: service.address.port, credentials: {privateKey: key.privateKey}, trust: {insecure: true}}))
    try {
      await assert.rejects(joining.register({token: 'f'.repeat(32), hostId: 'x', nodeName: 'evil', role: 'node', publicKey: key.publicKey}), /unknown join token/)
      await assert.rejects(joining.listUsers(), AccessDeniedError)
    } finally {
      await joining.close()
    }
    const joins = (await admin.searchEvents({from: new Date(Date.now() - 60_000), to: new Date(Date.now() + 60_000), types: ['instance.join']})).events
    assert.ok(joins.some((e) => e.code === 'TJ002E' && e.node_name === 'evil'))
  })

  test('password + TOTP login; the sixth attempt after five failures is locked out, and all are audited', async () => {
    const {invite} = await admin.createUser({name: 'carol', roles: ['access'], traits: {logins: ['carol']}})
    const {totp} = await admin.getUserToken(invite.token)
    await admin.redeemUserToken({token: invite.token, password: 'correct horse', otpCode: generateTotpCode(totp.secret, Date.now())})
    const key = generateKeyPair()
    // A fresh code for the login: the enrolment code may not be replayed.
    const login = (password: string) => admin.authenticateUser({username: 'carol', password, otpCode: generateTotpCode(totp.secret, Date.now() + 30_000), publicKey: key.publicKey})
    for (let i = 0; i < 5; i++) await assert.rejects(login('wrong password'), /invalid username, password or second factor/)
    await assert.rejects(login('correct horse'), /locked/)
    const logins = (await admin.searchEvents({from: new Date(Date.now() - 60_000), to: new Date(Date.now() + 60_000), types: ['user.login']})).events
    assert.equal(logins.filter((e) => e.user === 'carol' && e.code === 'T1000W').length, 6)
    assert.ok(logins.every((e) => !JSON.stringify(e).includes('correct horse')))
  })

  test('a reported event keeps its own time (held while auth was away) but not a future one', async () => {
    const earlier = new Date(Date.now() - 10 * 60_000)
    await admin.emitEvent({event: 'session.start', code: 'T2000I', time: earlier.toISOString(), sid: 'held-session', server_id: 'spoofed'})
    await admin.emitEvent({event: 'session.start', code: 'T2000I', time: new Date(Date.now() + 3600_000).toISOString(), sid: 'future-session'})
    const found = (await admin.searchEvents({from: new Date(Date.now() - 3600_000), to: new Date(Date.now() + 60_000), types: ['session.start']})).events
    const held = found.find((e) => e.sid === 'held-session')!
    assert.equal(held.time, earlier.toISOString())
    assert.notEqual(held.server_id, 'spoofed')
    assert.ok(new Date(found.find((e) => e.sid === 'future-session')!.time).getTime() <= Date.now())
  })

  test('a restart keeps CAs, users, roles, tokens and events', async () => {
    const before = await admin.status()
    await admin.upsertRole({kind: 'role', version: 'v5', metadata: {name: 'dba'}, spec: {allow: {logins: ['postgres'], node_labels: {env: 'db'}}}}, {create: true})
    const {token} = await admin.addToken({roles: ['proxy']})
    const adminIdentity = readFileSync(dataDirPaths(dataDir).adminIdentity, 'utf8')
    await admin.close()
    await service.close()

    service = await startAuthService(config(dataDir))
    admin = adminApi(dataDir, service.address.port)
    const after = await admin.status()
    assert.deepEqual(after.authorities, before.authorities)
    assert.deepEqual(after.caPins, before.caPins)
    assert.equal(readFileSync(dataDirPaths(dataDir).adminIdentity, 'utf8'), adminIdentity, 'a restart reuses the identities it made')
    assert.ok((await admin.listUsers()).some((u) => u.name === 'alice'))
    assert.equal((await admin.getRole('dba')).spec.allow.logins[0], 'postgres')
    assert.ok((await admin.listTokens()).some((t) => t.token === token))
    const created = (await admin.searchEvents({from: new Date(Date.now() - 3600_000), to: new Date(Date.now() + 60_000), types: ['user.create']})).events
    assert.ok(created.some((e) => e.name === 'alice'))
  })
})
