// Directions a and e between our own ssh2 client and server: a user certificate from our user CA
// is accepted (query phase, then the signed request); wrong CA, expired, wrong principal, plain
// key and a signature by another key are refused, with the reason surfaced to the server's code.

import {describe, test, before, after} from 'node:test'
import assert from 'node:assert/strict'
import {join} from 'node:path'
import ssh2 from 'ssh2'
import type {ParsedKey} from 'ssh2'
import {CertificateError, generateKeyPair, signHostCert, signUserCert, type ParsedCert} from '../../src/sshca/index.js'
import {certAuthOptions, certifiedHostKey, hostCertVerifier, verifyUserCertAuth} from '../../src/ssh/index.js'
import {EXEC_GREETING, TIMEOUT_MS, keygen, ssh2Exec, startSsh2Server, tempDir, type Daemon} from './helpers.js'

const HOUR = 3_600_000
const LOGIN = 'alice-login'

interface Attempt {
  proven?: boolean
  cert?: ParsedCert
  refusal?: CertificateError
}

describe('our ssh2 client and server with our user certificates', {timeout: 6 * TIMEOUT_MS}, () => {
  const dir = tempDir('ssh2-user')
  const userCA = generateKeyPair('user-ca')
  const otherCA = generateKeyPair('other-ca')
  const hostCA = generateKeyPair('host-ca')
  const host = generateKeyPair('host')
  const user = generateKeyPair('alice')
  const attempts: Attempt[] = []
  let server: Daemon | undefined

  const userCert = (overrides: Partial<Parameters<typeof signUserCert>[0]> = {}) =>
    signUserCert({
      caPrivateKey: userCA.privateKey,
      publicKey: user.publicKey,
      keyId: 'alice',
      principals: [LOGIN],
      ttlMs: HOUR,
      roles: ['access', 'auditor'],
      traits: {logins: [LOGIN]},
      routeToCluster: 'example',
      ...overrides,
    })

  before(async () => {
    const hostCert = signHostCert({caPrivateKey: hostCA.privateKey, publicKey: host.publicKey, keyId: 'host', principals: ['127.0.0.1'], role: 'Node', authority: 'example'})
    server = await startSsh2Server({
      hostKeys: [certifiedHostKey({privateKey: host.privateKey, certificate: hostCert})],
      authenticate: (ctx, ip) => {
        if (ctx.method !== 'publickey') return false
        try {
          const {cert, proven} = verifyUserCertAuth(ctx, {trustedUserCAs: [userCA.publicKey], clientAddress: ip})
          attempts.push({cert, proven})
          return true
        } catch (err) {
          if (!(err instanceof CertificateError)) throw err
          attempts.push({refusal: err})
          return false
        }
      },
    })
  })

  after(async () => {
    await server?.stop()
    dir.cleanup()
  })

  const connect = (auth: Partial<ssh2.ConnectConfig>) => {
    attempts.length = 0
    const verifier = hostCertVerifier({trustedHostCAs: [hostCA.publicKey], hostname: '127.0.0.1'})
    return ssh2Exec({port: server!.port, ...verifier.connectOptions(), ...auth}, 'id', (e) => verifier.explain(e))
  }
  const withCert = (certificate: string, privateKey = user.privateKey) => connect(certAuthOptions({username: LOGIN, privateKey, certificate}))

  const refusedWith = async (certificate: string, reason: string) => {
    const outcome = await withCert(certificate)
    assert.equal(outcome.ok, false)
    assert.match(outcome.error!.message, /All configured authentication methods failed/)
    assert.equal(attempts.length, 1, 'one attempt, refused at the query phase')
    assert.equal(attempts[0]!.refusal?.reason, reason, attempts[0]!.refusal?.message)
    return attempts[0]!.refusal!
  }

  test('a valid certificate: query phase, then the signed request; the identity reaches the server', async () => {
    const outcome = await withCert(userCert())
    assert.equal(outcome.error, undefined, outcome.error?.message)
    assert.equal(outcome.stdout, `${EXEC_GREETING}: id\n`)
    assert.deepEqual(attempts.map((a) => a.proven), [false, true])
    const cert = attempts[1]!.cert!
    assert.equal(cert.keyId, 'alice')
    assert.deepEqual(cert.roles, ['access', 'auditor'])
    assert.equal(cert.routeToCluster, 'example')
  })

  for (const type of ['ecdsa', 'rsa'] as const) {
    test(`a valid certificate for an ${type} key (signature conversion, SHA-2 for RSA)`, async () => {
      const key = await keygen(join(dir.path, `id_${type}`), type)
      const cert = signUserCert({caPrivateKey: userCA.privateKey, publicKey: key.publicKey, keyId: `alice-${type}`, principals: [LOGIN], ttlMs: HOUR, roles: [], traits: {}, routeToCluster: 'example'})
      const outcome = await withCert(cert, key.privateKey)
      assert.equal(outcome.error, undefined, `${outcome.error?.message} ${attempts.map((a) => a.refusal?.message).join('; ')}`)
      assert.equal(attempts.at(-1)?.proven, true)
      assert.equal(attempts.at(-1)?.cert?.keyId, `alice-${type}`)
    })
  }

  test('a certificate from another CA: untrusted-ca', async () => {
    const err = await refusedWith(userCert({caPrivateKey: otherCA.privateKey}), 'untrusted-ca')
    assert.ok(err instanceof CertificateError)
  })

  test('an expired certificate: expired', async () => {
    await refusedWith(userCert({now: new Date(Date.now() - 48 * HOUR), ttlMs: HOUR}), 'expired')
  })

  test('a certificate without the login: principal, on the signed attempt', async () => {
    const outcome = await withCert(userCert({principals: ['bob-login']}))
    assert.equal(outcome.ok, false)
    assert.deepEqual(attempts.map((a) => a.proven ?? a.refusal?.reason), [false, 'principal'])
  })

  test('a plain key is refused', async () => {
    const outcome = await connect({username: LOGIN, privateKey: user.privateKey, authHandler: ['publickey']})
    assert.equal(outcome.ok, false)
    assert.equal(attempts[0]?.refusal?.reason, 'wrong-type')
  })

  test('a signature by another key than the certified one: signature', async () => {
    // A client presenting alice's certificate but signing with mallory's key. ssh2 (patched)
    // refuses to pair them, so build the lying key by hand.
    const mallory = ssh2.utils.parseKey(generateKeyPair('mallory').privateKey)
    const certified = ssh2.utils.parseKey(userCert())
    assert.ok(!(mallory instanceof Error) && !(certified instanceof Error))
    const liar = Object.create(Array.isArray(mallory) ? mallory[0] : mallory, {
      type: {value: certified.type},
      getPublicSSH: {value: () => certified.getPublicSSH()},
    }) as ParsedKey
    const outcome = await connect({username: LOGIN, authHandler: [{type: 'publickey', username: LOGIN, key: liar} as ssh2.PublicKeyAuthMethod]})
    assert.equal(outcome.ok, false)
    assert.deepEqual(attempts.map((a) => a.proven ?? a.refusal?.reason), [false, 'signature'], outcome.error?.stack)
  })

  test('ssh2 refuses to pair a certificate with the wrong private key', () => {
    const other = generateKeyPair('other')
    // Our helper says so first, readably...
    assert.throws(() => certAuthOptions({username: LOGIN, privateKey: other.privateKey, certificate: userCert()}), /not for this private key/)
    // ...and the patched ssh2 itself refuses as well.
    const client = new ssh2.Client()
    client.on('error', () => {})
    assert.throws(() => client.connect({host: '127.0.0.1', port: server!.port, username: LOGIN, privateKey: other.privateKey, certificate: userCert()}), /Cannot use certificate: Certificate is not for this private key/)
  })
})
