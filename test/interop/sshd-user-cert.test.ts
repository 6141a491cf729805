// Direction a (and d) against real OpenSSH sshd: our ssh2 client logs in with a user certificate
// from our user CA (sshd: TrustedUserCAKeys, no authorized_keys), and checks sshd's host
// certificate from our host CA. sshd refuses an expired certificate and one lacking the login.

import {describe, test, before, after} from 'node:test'
import assert from 'node:assert/strict'
import {join} from 'node:path'
import {generateKeyPair, signHostCert, signUserCert} from '../../src/sshca/index.js'
import {certAuthOptions, hostCertVerifier} from '../../src/ssh/index.js'
import {LOGIN, TIMEOUT_MS, keygen, ssh2Exec, startSshd, tempDir, writeKeyFiles, type Daemon} from './helpers.js'

const HOUR = 3_600_000

describe('OpenSSH sshd accepts our ssh2 client with our user certificate', {timeout: 4 * TIMEOUT_MS}, () => {
  const dir = tempDir('sshd-user')
  const userCA = generateKeyPair('user-ca')
  const hostCA = generateKeyPair('host-ca')
  const user = generateKeyPair('alice')
  let sshd: Daemon | undefined

  const userCert = (overrides: Partial<Parameters<typeof signUserCert>[0]> = {}) =>
    signUserCert({
      caPrivateKey: userCA.privateKey,
      publicKey: user.publicKey,
      keyId: 'alice',
      principals: [LOGIN],
      ttlMs: HOUR,
      roles: ['access'],
      traits: {logins: [LOGIN]},
      routeToCluster: 'example',
      ...overrides,
    })

  const connect = (certificate: string) => {
    const verifier = hostCertVerifier({trustedHostCAs: [hostCA.publicKey], hostname: '127.0.0.1'})
    return ssh2Exec(
      {port: sshd!.port, ...verifier.connectOptions(), ...certAuthOptions({username: LOGIN, privateKey: user.privateKey, certificate})},
      'echo interop-$((40 + 2))',
      (err) => verifier.explain(err),
    ).then((outcome) => ({outcome, verifier}))
  }

  before(async () => {
    const host = generateKeyPair('sshd-host')
    const hostCert = signHostCert({caPrivateKey: hostCA.privateKey, publicKey: host.publicKey, keyId: 'sshd-host', principals: ['127.0.0.1', 'localhost'], role: 'Node', authority: 'example'})
    const hostKeyPath = writeKeyFiles(dir.path, 'host_key', host.privateKey, host.publicKey, hostCert)
    sshd = await startSshd({dir: dir.path, trustedUserCAKeys: [userCA.publicKey], hostKeyPath, hostCertPath: `${hostKeyPath}-cert.pub`})
  })

  after(async () => {
    await sshd?.stop()
    dir.cleanup()
  })

  test('a valid certificate logs in and runs a command', async () => {
    const mark = sshd!.logs().length
    const {outcome, verifier} = await connect(userCert())
    assert.equal(outcome.error, undefined, `login failed: ${outcome.error?.message}\n${sshd!.logs()}`)
    assert.equal(outcome.stdout, 'interop-42\n')
    assert.equal(outcome.code, 0)
    // Direction d against sshd: the host presented its certificate and we checked it.
    assert.equal(verifier.hostCert?.keyId, 'sshd-host')
    await sshd!.waitForLog(/Accepted publickey for \S+ .*ED25519-CERT.*ID alice/, mark)
  })

  for (const [type, logName] of [['ecdsa', 'ECDSA-CERT'], ['rsa', 'RSA-CERT']] as const) {
    test(`a certificate for an ${type} key logs in (base signature algorithm${type === 'rsa' ? ', rsa-sha2' : ''})`, async () => {
      const key = await keygen(join(dir.path, `id_${type}`), type)
      const cert = userCert({publicKey: key.publicKey, keyId: `alice-${type}`})
      const verifier = hostCertVerifier({trustedHostCAs: [hostCA.publicKey], hostname: '127.0.0.1'})
      const mark = sshd!.logs().length
      const outcome = await ssh2Exec({port: sshd!.port, ...verifier.connectOptions(), ...certAuthOptions({username: LOGIN, privateKey: key.privateKey, certificate: cert})}, 'echo ok')
      assert.equal(outcome.error, undefined, `${outcome.error?.message}\n${sshd!.logs().slice(mark)}`)
      assert.equal(outcome.stdout, 'ok\n')
      const log = await sshd!.waitForLog(new RegExp(`Accepted publickey for \\S+ .*${logName}.*ID alice-${type}`), mark)
      if (type === 'rsa') assert.match(log, /pkalg rsa-sha2-(256|512)-cert-v01@openssh\.com/)
    })
  }

  test('an expired certificate is refused', async () => {
    const expired = userCert({now: new Date(Date.now() - 48 * HOUR), ttlMs: HOUR})
    const mark = sshd!.logs().length
    const {outcome} = await connect(expired)
    assert.equal(outcome.ok, false)
    assert.match(outcome.error!.message, /All configured authentication methods failed/)
    await sshd!.waitForLog(/[Cc]ertificate invalid: expired/, mark)
  })

  test('a certificate without the login among its principals is refused', async () => {
    const other = userCert({principals: ['somebody-else']})
    const mark = sshd!.logs().length
    const {outcome} = await connect(other)
    assert.equal(outcome.ok, false)
    assert.match(outcome.error!.message, /All configured authentication methods failed/)
    await sshd!.waitForLog(/name is not a listed principal/, mark)
  })
})
