import {describe, test} from 'node:test'
import assert from 'node:assert/strict'
import {AuthApiClient} from '../../../../src/api/auth-api-client.js'
import type {CAKeys} from '../../../../src/api/auth-api.js'
import {identityFromCert} from '../../../../src/api/identity.js'
import {MemoryTransport} from '../../../../src/api/memory-transport.js'
import {authApiRoutes} from '../../../../src/daemon/auth/api-routes.js'
import {CAFollower} from '../../../../src/daemon/common/ca-follower.js'
import {generateKeyPair, parseCert} from '../../../../src/sshca/index.js'
import {eventually} from '../../../helpers/eventually.js'
import {memoryAuthApi} from '../../../helpers/memory-auth-api.js'
import {memoryLogger} from '../../../helpers/memory-logger.js'

describe('CAFollower', () => {
  test('a node follows a host CA rotation through the watch: both keys trusted, a new certificate in update_servers and none before', async () => {
    const m = await memoryAuthApi()
    const key = generateKeyPair()
    let certificate = await m.auth.issueHostCert({hostId: '0b7c6f3e-1d2a-4c5b-8e9f-a1b2c3d4e5f6', nodeName: 'node1', role: 'Node', publicKey: key.publicKey})
    const first = certificate
    const api = new AuthApiClient(new MemoryTransport(authApiRoutes(m.auth), identityFromCert(parseCert(certificate), '127.0.0.1')))
    const seen: CAKeys[] = []
    const renewed: string[] = []
    const follower = new CAFollower({
      api,
      certificate: () => certificate,
      onCAs: (cas) => seen.push(cas),
      onCertificate: (cert) => {
        renewed.push(cert)
        certificate = cert
      },
      clock: m.clock,
      log: memoryLogger(),
    })
    try {
      follower.start()
      await eventually(() => seen.length === 1, 'the CAs as they are')
      for (const phase of ['init', 'update_clients'] as const) {
        await m.api.rotateCA({type: 'host', manual: true, phase})
        await eventually(() => seen.at(-1)?.rotation?.host.phase === phase, `phase ${phase} seen`)
        await follower.idle()
        assert.equal(seen.at(-1)!.host.length, 2, 'both host CA keys trusted')
        assert.deepEqual(renewed, [], `no new certificate in ${phase}`)
      }
      await m.api.rotateCA({type: 'host', manual: true, phase: 'update_servers'})
      await eventually(() => renewed.length === 1, 'a renewed certificate')
      const cert = parseCert(renewed[0]!)
      assert.equal(cert.signatureKey, seen.at(-1)!.rotation!.host.signingKey.split(' ').slice(0, 2).join(' '))
      assert.equal(cert.publicKey, parseCert(first).publicKey)
      await m.api.rotateCA({type: 'host', manual: true, phase: 'standby'})
      await eventually(() => seen.at(-1)?.host.length === 1, 'the old key dropped')
      await follower.idle()
      assert.equal(renewed.length, 1, 'the renewed certificate is current at standby')
    } finally {
      follower.stop()
      await m.close()
    }
  })
})
