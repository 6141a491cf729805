import {X509Certificate} from 'node:crypto'
import {describe, test} from 'node:test'
import assert from 'node:assert/strict'
import {AuthApiClient} from '../../../../src/api/auth-api-client.js'
import {identityFromCert} from '../../../../src/api/identity.js'
import {MemoryTransport} from '../../../../src/api/memory-transport.js'
import {MemoryBackend} from '../../../../src/backend/index.js'
import {authApiRoutes} from '../../../../src/daemon/auth/api-routes.js'
import {AuthServer} from '../../../../src/daemon/auth/auth-server.js'
import {RotationScheduler} from '../../../../src/daemon/auth/rotation-scheduler.js'
import {MemoryAuditLog} from '../../../../src/events/index.js'
import {MemoryRecordingStore} from '../../../../src/events/recording-store/index.js'
import {FakeClock} from '../../../../src/lib/clock.js'
import {generateKeyPair, parseCert, verifyCert} from '../../../../src/sshca/index.js'
import {verifyX509UserCert} from '../../../../src/sshca/x509.js'
import {memoryAuthApi} from '../../../helpers/memory-auth-api.js'

const admin = {user: 'admin'}

async function userCert(auth: AuthServer): Promise<string> {
  return (await auth.issueUserCert({username: 'alice', publicKey: generateKeyPair().publicKey}, admin)).certificate
}

/** Whether a node trusting what auth publishes now accepts `cert`. */
async function accepted(api: AuthApiClient, cert: string, now: Date, type: 'user' | 'host' = 'user'): Promise<boolean> {
  const cas = await api.getCAKeys()
  try {
    verifyCert(cert, {type, trustedCAs: type === 'user' ? cas.user : cas.host, now})
    return true
  } catch {
    return false
  }
}

describe('CA rotation at auth', () => {
  test('a manual user CA rotation: the old certificate works in every phase and is refused after the final standby; each step audited', async () => {
    const m = await memoryAuthApi()
    try {
      await m.auth.upsertUser({name: 'alice', roles: ['access'], traits: {logins: ['alice']}}, false, admin)
      const before = await userCert(m.auth)
      const oldSigner = parseCert(before).signatureKey
      for (const phase of ['init', 'update_clients', 'update_servers'] as const) {
        assert.deepEqual(await m.api.rotateCA({type: 'user', manual: true, phase}), [{type: 'user', phase}])
        assert.ok(await accepted(m.api, before, m.clock.now()), `the old certificate is trusted in ${phase}`)
        const fresh = await userCert(m.auth)
        assert.equal(parseCert(fresh).signatureKey === oldSigner, phase === 'init', `signed by the ${phase === 'init' ? 'old' : 'new'} key in ${phase}`)
        assert.ok(await accepted(m.api, fresh, m.clock.now()))
        const status = await m.api.status()
        const user = status.authorities.find((a) => a.type === 'user')!
        assert.equal(user.rotationPhase, phase)
        assert.equal(user.pins?.length, 2, 'both CA pins while rotating')
        assert.equal(user.rotation?.state, 'in_progress')
      }
      await m.api.rotateCA({type: 'user', manual: true, phase: 'standby'})
      assert.equal(await accepted(m.api, before, m.clock.now()), false, 'the old certificate is refused after the final standby')
      assert.ok(await accepted(m.api, await userCert(m.auth), m.clock.now()))
      const host = (await m.api.status()).authorities.find((a) => a.type === 'host')!
      assert.equal(host.rotationPhase, 'standby', 'the host CA was not touched')
      const events = m.audit.all().filter((e) => e.event === 'cert.rotation')
      // The TLS user CA takes each step right after the user CA.
      assert.deepEqual(events.map((e) => [e.code, e.cert_type, e.previous_phase, e.phase, e.mode, e.user]), [
        ['TC100I', 'user', 'standby', 'init', 'manual', 'admin:admin-host'],
        ['TC100I', 'tls', 'standby', 'init', 'manual', 'admin:admin-host'],
        ['TC100I', 'user', 'init', 'update_clients', 'manual', 'admin:admin-host'],
        ['TC100I', 'tls', 'init', 'update_clients', 'manual', 'admin:admin-host'],
        ['TC100I', 'user', 'update_clients', 'update_servers', 'manual', 'admin:admin-host'],
        ['TC100I', 'tls', 'update_clients', 'update_servers', 'manual', 'admin:admin-host'],
        ['TC100I', 'user', 'update_servers', 'standby', 'manual', 'admin:admin-host'],
        ['TC100I', 'tls', 'update_servers', 'standby', 'manual', 'admin:admin-host'],
      ])
    } finally {
      await m.close()
    }
  })

  test('the TLS user CA rotates with the user CA: the relay\'s X.509 certificate from before is trusted until the final standby, then refused', async () => {
    const m = await memoryAuthApi()
    try {
      await m.auth.upsertUser({name: 'alice', roles: ['access'], traits: {logins: ['alice']}}, false, admin)
      const x509 = async () => new X509Certificate((await m.auth.issueUserCert({username: 'alice', publicKey: generateKeyPair().publicKey}, admin)).tlsCertificate!)
      const tlsCAs = async () => (await m.api.getCAKeys()).tls ?? []
      const trusted = async (cert: X509Certificate) => verifyX509UserCert(cert.raw, await tlsCAs(), m.clock.now()).then(() => true, () => false)
      const before = await x509()
      const oldCA = new X509Certificate((await tlsCAs())[0]!)
      for (const phase of ['init', 'update_clients', 'update_servers'] as const) {
        await m.api.rotateCA({type: 'user', manual: true, phase})
        assert.equal((await tlsCAs()).length, 2, `both TLS CAs in ${phase}`)
        assert.ok(await trusted(before), `trusted in ${phase}`)
        const fresh = await x509()
        assert.equal(fresh.verify(oldCA.publicKey), phase === 'init', `signed by the ${phase === 'init' ? 'old' : 'new'} TLS CA in ${phase}`)
        assert.ok(await trusted(fresh))
      }
      await m.api.rotateCA({type: 'user', manual: true, phase: 'standby'})
      assert.equal((await tlsCAs()).length, 1)
      assert.equal(await trusted(before), false, 'refused after the final standby')
      assert.ok(await trusted(await x509()))
      // A host CA rotation leaves it alone.
      const tls = await tlsCAs()
      await m.api.rotateCA({type: 'host', manual: true, phase: 'init'})
      assert.deepEqual(await tlsCAs(), tls)
    } finally {
      await m.close()
    }
  })

  test('rollback: the old key signs again and the new one is dropped at standby', async () => {
    const m = await memoryAuthApi()
    try {
      await m.auth.upsertUser({name: 'alice', roles: ['access'], traits: {logins: ['alice']}}, false, admin)
      const before = await userCert(m.auth)
      await m.api.rotateCA({type: 'user', manual: true, phase: 'init'})
      await m.api.rotateCA({type: 'user', manual: true, phase: 'update_clients'})
      const during = await userCert(m.auth)
      await m.api.rotateCA({type: 'user', manual: true, phase: 'rollback'})
      assert.equal(parseCert(await userCert(m.auth)).signatureKey, parseCert(before).signatureKey)
      await m.api.rotateCA({type: 'user', manual: true, phase: 'standby'})
      assert.ok(await accepted(m.api, before, m.clock.now()))
      assert.equal(await accepted(m.api, during, m.clock.now()), false, 'what the abandoned key signed is refused')
    } finally {
      await m.close()
    }
  })

  test('bad requests are refused and change nothing', async () => {
    const m = await memoryAuthApi()
    try {
      await assert.rejects(m.api.rotateCA({type: 'host', manual: true}), {name: 'BadParameterError', message: '--manual needs --phase'})
      await assert.rejects(m.api.rotateCA({type: 'host', phase: 'init'}), {message: '--phase needs --manual'})
      await assert.rejects(m.api.rotateCA({manual: true, phase: 'update_clients'}), {message: 'the user CA cannot go from phase "standby" to "update_clients"'})
      await m.api.rotateCA({type: 'user', manual: true, phase: 'init'})
      // Both CAs are checked before either is written: the host CA's step is fine, the user CA's is not.
      await assert.rejects(m.api.rotateCA({manual: true, phase: 'init'}), {message: 'the user CA cannot go from phase "init" to "init"'})
      assert.equal((await m.api.status()).authorities.find((a) => a.type === 'host')!.rotationPhase, 'standby')
    } finally {
      await m.close()
    }
  })

  test('two auth servers on one backend: only one takes a step', async () => {
    const clock = new FakeClock()
    const backend = new MemoryBackend(clock, {sweepIntervalMs: 3_600_000})
    const options = {backend, audit: new MemoryAuditLog(), recordings: new MemoryRecordingStore(), clock, clusterName: 'example.com', secondFactor: 'off' as const, staticTokens: [], proxyPublicAddr: 'proxy:3080', bcryptCost: 4}
    const [a, b] = [await AuthServer.init(options), await AuthServer.init(options)]
    const results = await Promise.allSettled([a.rotateCA({type: 'host', manual: true, phase: 'init'}, admin), b.rotateCA({type: 'host', manual: true, phase: 'init'}, admin)])
    assert.deepEqual(results.map((r) => r.status).sort(), ['fulfilled', 'rejected'])
    const refused = results.find((r) => r.status === 'rejected') as PromiseRejectedResult
    assert.match((refused.reason as Error).name, /CompareFailedError|BadParameterError/)
    assert.equal((await a.cas.get('host', 'example.com')).additionalTrustedKeys.length, 1, 'one new key, not two')
    await backend.close()
  })

  test('automatic rotation: the scheduler moves the phases over the grace period as the clock moves', async () => {
    const m = await memoryAuthApi()
    const scheduler = new RotationScheduler(m.auth, {clock: m.clock, log: () => {}})
    try {
      await scheduler.start()
      await m.api.rotateCA({type: 'host', gracePeriodMs: 3 * 3600_000})
      const phase = async () => (await m.api.status()).authorities.find((a) => a.type === 'host')!.rotationPhase
      assert.equal(await phase(), 'init')
      await m.clock.advanceAsync(3600_000 - 1000)
      await scheduler.idle()
      assert.equal(await phase(), 'init', 'not before its time')
      for (const expected of ['update_clients', 'update_servers', 'standby']) {
        await m.clock.advanceAsync(3600_000)
        await scheduler.idle()
        assert.equal(await phase(), expected)
      }
      const events = m.audit.all().filter((e) => e.event === 'cert.rotation')
      assert.deepEqual(events.map((e) => [e.phase, e.mode, e.user]), [['init', 'auto', 'admin:admin-host'], ['update_clients', 'auto', 'system'], ['update_servers', 'auto', 'system'], ['standby', 'auto', 'system']])
      assert.equal((await m.auth.cas.get('host', 'example.com')).additionalTrustedKeys.length, 0)
    } finally {
      scheduler.stop()
      await m.close()
    }
  })

  test('hosts watch the CAs and renew their own certificate, for their own key, from the key that signs now', async () => {
    const m = await memoryAuthApi()
    try {
      const key = generateKeyPair()
      const hostId = '7f1b0c3e-2a45-4d7e-9b1a-3c5d7e9f1a2b'
      const certificate = await m.auth.issueHostCert({hostId, nodeName: 'node1', role: 'Node', publicKey: key.publicKey})
      const node = new AuthApiClient(new MemoryTransport(authApiRoutes(m.auth), identityFromCert(parseCert(certificate), '127.0.0.1'), (err) => {
        throw err
      }))
      const watch = await node.watchCAs()
      const lines = (async function* () {
        let buffered = ''
        for await (const chunk of watch) {
          buffered += String(chunk)
          for (let nl = buffered.indexOf('\n'); nl >= 0; nl = buffered.indexOf('\n')) {
            yield JSON.parse(buffered.slice(0, nl))
            buffered = buffered.slice(nl + 1)
          }
        }
      })()
      const first = (await lines.next()).value
      assert.equal(first.rotation.host.phase, 'standby')
      assert.equal(first.host.length, 1)
      await m.api.rotateCA({type: 'host', manual: true, phase: 'init'})
      const second = (await lines.next()).value
      assert.equal(second.rotation.host.phase, 'init')
      assert.equal(second.host.length, 2, 'both host CA keys trusted')
      await m.api.rotateCA({type: 'host', manual: true, phase: 'update_clients'})
      await m.api.rotateCA({type: 'host', manual: true, phase: 'update_servers'})
      const renewed = parseCert((await node.renewHostCert()).certificate)
      assert.equal(renewed.publicKey, parseCert(certificate).publicKey, 'the same key')
      assert.deepEqual([renewed.keyId, renewed.hostRole, renewed.principals], [hostId, 'Node', parseCert(certificate).principals])
      assert.notEqual(renewed.signatureKey, parseCert(certificate).signatureKey, 'signed by the new key')
      watch.destroy()
    } finally {
      await m.close()
    }
  })
})
