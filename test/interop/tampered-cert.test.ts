// A certificate with one byte of its key id changed: the CA signature no longer matches. Our
// server-side verification (verifyUserCertAuth) refuses it with reason 'signature', and so does
// OpenSSH sshd. The untouched certificate is accepted by both, so the refusals are the tamper's.

import {describe, test, before, after} from 'node:test'
import assert from 'node:assert/strict'
import {generateKeyPair, parseCert, signHostCert, signUserCert, CertificateError} from '../../src/sshca/index.js'
import {certAuthOptions, certifiedHostKey, hostCertVerifier, verifyUserCertAuth} from '../../src/ssh/index.js'
import {LOGIN, TIMEOUT_MS, ssh2Exec, startSsh2Server, startSshd, tempDir, writeKeyFiles, type Daemon} from './helpers.js'

const KEY_ID = 'alice-untouched'

/** The certificate line with one byte of the key id changed ("alice-untouched" -> "alice-untouchee"). */
function tamperKeyId(certLine: string): string {
  const [type, b64] = certLine.split(' ')
  const blob = Buffer.from(b64!, 'base64')
  const at = blob.indexOf(Buffer.from(KEY_ID))
  assert.ok(at > 0, 'key id not found in the certificate')
  blob[at + KEY_ID.length - 1] ^= 0x01
  return `${type} ${blob.toString('base64')}`
}

describe('a tampered certificate is refused by us and by sshd', {timeout: 6 * TIMEOUT_MS}, () => {
  const dir = tempDir('tamper')
  const userCA = generateKeyPair('user-ca')
  const hostCA = generateKeyPair('host-ca')
  const host = generateKeyPair('host')
  const user = generateKeyPair('alice')
  const hostCert = signHostCert({caPrivateKey: hostCA.privateKey, publicKey: host.publicKey, keyId: 'host', principals: ['127.0.0.1'], role: 'Node', authority: 'example'})
  const good = signUserCert({caPrivateKey: userCA.privateKey, publicKey: user.publicKey, keyId: KEY_ID, principals: [LOGIN], ttlMs: 3_600_000, roles: ['access'], traits: {}, routeToCluster: 'example'})
  const tampered = tamperKeyId(good)
  const refusals: CertificateError[] = []
  const accepted: string[] = []
  let server: Daemon | undefined
  let sshd: Daemon | undefined

  before(async () => {
    server = await startSsh2Server({
      hostKeys: [certifiedHostKey({privateKey: host.privateKey, certificate: hostCert})],
      authenticate: (ctx, ip) => {
        if (ctx.method !== 'publickey') return false
        try {
          const {cert, proven} = verifyUserCertAuth(ctx, {trustedUserCAs: [userCA.publicKey], clientAddress: ip})
          if (proven) accepted.push(cert.keyId)
          return true
        } catch (err) {
          if (err instanceof CertificateError) refusals.push(err)
          return false
        }
      },
    })
    const hostKeyPath = writeKeyFiles(dir.path, 'host_key', host.privateKey, host.publicKey, hostCert)
    sshd = await startSshd({dir: dir.path, trustedUserCAKeys: [userCA.publicKey], hostKeyPath, hostCertPath: `${hostKeyPath}-cert.pub`})
  })

  after(async () => {
    await server?.stop()
    await sshd?.stop()
    dir.cleanup()
  })

  const login = (port: number, certificate: string) => {
    const verifier = hostCertVerifier({trustedHostCAs: [hostCA.publicKey], hostname: '127.0.0.1'})
    return ssh2Exec({port, ...verifier.connectOptions(), ...certAuthOptions({username: LOGIN, privateKey: user.privateKey, certificate})}, 'true', (e) => verifier.explain(e))
  }

  test('the tamper changed only the key id', () => {
    assert.equal(parseCert(tampered).keyId, 'alice-untouchee')
    assert.equal(parseCert(tampered).publicKey, parseCert(good).publicKey)
  })

  test('our server refuses it: signature', async () => {
    refusals.length = 0
    const outcome = await login(server!.port, tampered)
    assert.equal(outcome.ok, false)
    assert.ok(refusals.length > 0, 'the server never saw the certificate')
    assert.ok(refusals.every((e) => e.reason === 'signature'), refusals.map((e) => e.message).join('; '))
    assert.deepEqual(accepted, [])
    // Control: the untouched certificate gets in.
    const control = await login(server!.port, good)
    assert.equal(control.error, undefined, control.error?.message)
    assert.deepEqual(accepted, [KEY_ID])
  })

  test('sshd refuses it too', async () => {
    const mark = sshd!.logs().length
    const outcome = await login(sshd!.port, tampered)
    assert.equal(outcome.ok, false)
    assert.match(outcome.error!.message, /All configured authentication methods failed/)
    await sshd!.waitForLog(/userauth_pubkey: parse key: incorrect signature/, mark)
    const control = await login(sshd!.port, good)
    assert.equal(control.error, undefined, control.error?.message)
  })
})
