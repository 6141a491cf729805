import {describe, test} from 'node:test'
import assert from 'node:assert/strict'
import ssh2 from 'ssh2'
import type {ParsedKey} from 'ssh2'
import {CertificateError, generateKeyPair, parseCert, signUserCert} from '../../../src/sshca/index.js'
import {verifyUserCertAuth, type PublicKeyAuthAttempt} from '../../../src/ssh/index.js'

const NOW = new Date('2026-06-01T12:00:00Z')
const userCA = generateKeyPair('user-ca')
const opts = {trustedUserCAs: [userCA.publicKey], now: NOW, clientAddress: '10.0.0.5'}
const SIGNED_DATA = Buffer.from('session id + userauth request')

function privateKey(text: string): ParsedKey {
  const key = ssh2.utils.parseKey(text)
  const first = Array.isArray(key) ? key[0] : key
  if (first instanceof Error) throw first
  return first as ParsedKey
}

function cert(publicKey: string, overrides: Partial<Parameters<typeof signUserCert>[0]> = {}) {
  return parseCert(signUserCert({caPrivateKey: userCA.privateKey, publicKey, keyId: 'alice', principals: ['root'], ttlMs: 3_600_000, now: NOW, roles: ['access'], traits: {}, routeToCluster: 'c', ...overrides}))
}

function attempt(blob: Buffer, extra: Partial<PublicKeyAuthAttempt> = {}): PublicKeyAuthAttempt {
  const algo = blob.subarray(4, 4 + blob.readUInt32BE(0)).toString()
  return {method: 'publickey', username: 'root', key: {algo, data: blob}, ...extra}
}

describe('verifyUserCertAuth', () => {
  const alice = generateKeyPair('alice')
  const aliceKey = privateKey(alice.privateKey)
  const aliceCert = cert(alice.publicKey)

  test('query phase: the certificate checks out, nothing proven yet', () => {
    const r = verifyUserCertAuth(attempt(aliceCert.blob), opts)
    assert.equal(r.proven, false)
    assert.equal(r.cert.keyId, 'alice')
  })

  test('signed request: verified with the embedded key', () => {
    const r = verifyUserCertAuth(attempt(aliceCert.blob, {signature: aliceKey.sign(SIGNED_DATA), blob: SIGNED_DATA}), opts)
    assert.equal(r.proven, true)
    assert.deepEqual(r.cert.roles, ['access'])
  })

  const refuses = (ctx: PublicKeyAuthAttempt, reason: string, options = opts) =>
    assert.throws(() => verifyUserCertAuth(ctx, options), (err: unknown) => err instanceof CertificateError && err.reason === reason)

  test('a signature by another key', () => {
    const mallory = privateKey(generateKeyPair('mallory').privateKey)
    refuses(attempt(aliceCert.blob, {signature: mallory.sign(SIGNED_DATA), blob: SIGNED_DATA}), 'signature')
  })

  test('a signature over other data', () => {
    refuses(attempt(aliceCert.blob, {signature: aliceKey.sign(Buffer.from('other')), blob: SIGNED_DATA}), 'signature')
  })

  test('a signature without signed data', () => {
    refuses(attempt(aliceCert.blob, {signature: aliceKey.sign(SIGNED_DATA)}), 'signature')
  })

  test('CA, validity, login, source address', () => {
    refuses(attempt(aliceCert.blob), 'untrusted-ca', {...opts, trustedUserCAs: [generateKeyPair('x').publicKey]})
    refuses(attempt(aliceCert.blob), 'expired', {...opts, now: new Date(NOW.getTime() + 7_200_000)})
    refuses(attempt(aliceCert.blob, {username: 'bob', signature: aliceKey.sign(SIGNED_DATA), blob: SIGNED_DATA}), 'principal')
    refuses(attempt(cert(alice.publicKey, {sourceAddress: ['192.168.0.0/16']}).blob), 'source-address')
  })

  test('the login is checked on the signed attempt, not at the query (the client then hears why)', () => {
    assert.equal(verifyUserCertAuth(attempt(aliceCert.blob, {username: 'bob'}), opts).proven, false)
  })

  test('a plain key', () => {
    const plain = ssh2.utils.parseKey(alice.publicKey) as ParsedKey
    refuses(attempt(plain.getPublicSSH()), 'wrong-type')
  })

  test('a request naming another algorithm than the certificate\'s', () => {
    refuses(attempt(aliceCert.blob, {key: {algo: 'ssh-rsa-cert-v01@openssh.com', data: aliceCert.blob}}), 'signature')
  })

  describe('RSA certificates', () => {
    const rsa = ssh2.utils.generateKeyPairSync('rsa', {bits: 2048})
    const rsaKey = privateKey(rsa.private)
    const rsaCert = cert(rsa.public)

    test('rsa-sha2-256 / -512 signatures verify with ctx.hashAlgo', () => {
      for (const hashAlgo of ['sha256', 'sha512']) {
        const r = verifyUserCertAuth(attempt(rsaCert.blob, {signature: rsaKey.sign(SIGNED_DATA, hashAlgo), blob: SIGNED_DATA, hashAlgo}), opts)
        assert.equal(r.proven, true)
      }
    })

    test('a SHA-1 ("ssh-rsa-cert-v01") signature is refused', () => {
      refuses(attempt(rsaCert.blob, {signature: rsaKey.sign(SIGNED_DATA, 'sha1'), blob: SIGNED_DATA}), 'signature')
    })
  })
})
