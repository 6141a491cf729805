import {describe, test} from 'node:test'
import assert from 'node:assert/strict'
import {generateKeyPair, parseCert, parsePublicKeyLine, signHostCert, signUserCert, CertificateError} from '../../../src/sshca/index.js'
import {CERT_HOST_KEY_ALGORITHMS, hostCertVerifier, UnknownHostKeyError} from '../../../src/ssh/index.js'

const NOW = new Date('2026-06-01T12:00:00Z')
const hostCA = generateKeyPair('host-ca')
const host = generateKeyPair('host')

function hostCert(overrides: Partial<Parameters<typeof signHostCert>[0]> = {}): Buffer {
  const line = signHostCert({caPrivateKey: hostCA.privateKey, publicKey: host.publicKey, keyId: 'uuid', principals: ['uuid.example', 'node-1'], role: 'Node', authority: 'example', now: NOW, ttlMs: 3_600_000, ...overrides})
  return parseCert(line).blob
}

describe('hostCertVerifier', () => {
  const verifier = () => hostCertVerifier({trustedHostCAs: [hostCA.publicKey], hostname: 'node-1', now: NOW})

  test('accepts a trusted host certificate naming the host and keeps it', () => {
    const v = verifier()
    assert.equal(v.hostVerifier(hostCert()), true)
    assert.equal(v.refusal, undefined)
    assert.equal(v.hostCert?.keyId, 'uuid')
    assert.equal(v.hostCert?.hostRole, 'Node')
  })

  for (const [name, blob, reason] of [
    ['untrusted CA', () => hostCert({caPrivateKey: generateKeyPair('other').privateKey}), 'untrusted-ca'],
    ['expired', () => hostCert({now: new Date(NOW.getTime() - 7_200_000)}), 'expired'],
    ['not yet valid', () => hostCert({now: new Date(NOW.getTime() + 7_200_000)}), 'not-yet-valid'],
    ['another host', () => hostCert({principals: ['node-2']}), 'principal'],
    [
      'a user certificate',
      () => parseCert(signUserCert({caPrivateKey: hostCA.privateKey, publicKey: host.publicKey, keyId: 'u', principals: ['node-1'], ttlMs: 3_600_000, now: NOW, roles: [], traits: {}, routeToCluster: 'c'})).blob,
      'wrong-type',
    ],
  ] as const) {
    test(`refuses ${name} with reason ${reason}`, () => {
      const v = verifier()
      assert.equal(v.hostVerifier(blob()), false)
      assert.ok(v.refusal instanceof CertificateError)
      assert.equal(v.refusal.reason, reason)
      assert.equal(v.hostCert, undefined)
    })
  }

  test('refuses a plain host key unless it is known', () => {
    const plain = parsePublicKeyLine(host.publicKey).blob
    const v = verifier()
    assert.equal(v.hostVerifier(plain), false)
    assert.ok(v.refusal instanceof UnknownHostKeyError)
    assert.equal(v.refusal.reason, 'unknown-host-key')
    const known = hostCertVerifier({trustedHostCAs: [hostCA.publicKey], hostname: 'node-1', knownHostKeys: [host.publicKey]})
    assert.equal(known.hostVerifier(plain), true)
    assert.equal(known.hostCert, undefined)
  })

  test('refuses garbage without throwing', () => {
    const v = verifier()
    assert.equal(v.hostVerifier(Buffer.from([0, 0])), false)
    assert.equal(v.refusal?.reason, 'malformed')
  })

  test('now may be a function, read at each check', () => {
    let now = NOW
    const v = hostCertVerifier({trustedHostCAs: [hostCA.publicKey], hostname: 'node-1', now: () => now})
    const blob = hostCert()
    assert.equal(v.hostVerifier(blob), true)
    now = new Date(NOW.getTime() + 2 * 3_600_000)
    assert.equal(v.hostVerifier(blob), false)
    assert.equal(v.refusal?.reason, 'expired')
  })

  test('connectOptions asks for certificates first and keeps other algorithm settings', () => {
    const v = verifier()
    const opts = v.connectOptions({cipher: ['aes128-gcm@openssh.com']})
    const list = opts.algorithms!.serverHostKey as string[]
    assert.deepEqual(list.slice(0, CERT_HOST_KEY_ALGORITHMS.length), [...CERT_HOST_KEY_ALGORITHMS])
    assert.ok(list.includes('ssh-ed25519'))
    assert.ok(!list.includes('ssh-rsa'), 'no SHA-1 RSA')
    assert.deepEqual(opts.algorithms!.cipher, ['aes128-gcm@openssh.com'])
    assert.equal(opts.hostVerifier, v.hostVerifier)
  })

  test('explain() swaps ssh2\'s reasonless error for the refusal, and passes others', () => {
    const v = verifier()
    const denied = new Error('Host denied (verification failed)')
    assert.equal(v.explain(denied), denied, 'nothing refused yet')
    v.hostVerifier(hostCert({principals: ['elsewhere']}))
    assert.equal(v.explain(denied), v.refusal)
    const other = new Error('connect ECONNREFUSED')
    assert.equal(v.explain(other), other)
  })
})
