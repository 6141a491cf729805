import assert from 'node:assert/strict'
import {X509Certificate} from 'node:crypto'
import {before, describe, test} from 'node:test'
import {CertificateError, generateKeyPair} from '../../../src/sshca/index.js'
import {generateTlsCA, signX509UserCert, verifyX509UserCert, x509CertifiesKey, type TlsCAKeyPair} from '../../../src/sshca/x509.js'

const NOW = new Date('2026-06-01T12:00:00Z')
const HOUR = 3600_000
const identity = {username: 'alice', roles: ['access', 'a,b'], logins: ['root', 'x=y'], cluster: 'example.com'}

describe('the TLS user CA and X.509 user certificates', () => {
  let ca: TlsCAKeyPair
  let other: TlsCAKeyPair
  before(async () => {
    ca = await generateTlsCA('example.com', NOW)
    other = await generateTlsCA('other.com', NOW)
  })

  test('a certificate on the SSH key carries the identity and TTL, and verifies with the CA', async () => {
    const keys = generateKeyPair()
    const pem = await signX509UserCert({ca, publicKey: keys.publicKey, identity, ttlMs: HOUR, now: NOW})
    assert.equal(x509CertifiesKey(pem, keys.publicKey, NOW), true)
    assert.equal(x509CertifiesKey(pem, generateKeyPair().publicKey, NOW), false, 'another key')
    const cert = new X509Certificate(pem)
    assert.equal(new Date(cert.validTo).getTime(), Math.floor((NOW.getTime() + HOUR) / 1000) * 1000)
    const got = await verifyX509UserCert(cert.raw, [ca.certificate], NOW)
    assert.deepEqual({username: got.username, roles: got.roles, logins: got.logins, cluster: got.cluster}, identity)
  })

  test('refused: another CA, expired, not yet valid', async () => {
    const keys = generateKeyPair()
    const raw = new X509Certificate(await signX509UserCert({ca, publicKey: keys.publicKey, identity, ttlMs: HOUR, now: NOW})).raw
    const reason = async (trusted: string[], at: Date) => {
      try {
        await verifyX509UserCert(raw, trusted, at)
        return 'accepted'
      } catch (err) {
        assert.ok(err instanceof CertificateError)
        return err.reason
      }
    }
    assert.equal(await reason([other.certificate], NOW), 'untrusted-ca')
    assert.equal(await reason([other.certificate, ca.certificate], NOW), 'accepted')
    assert.equal(await reason([ca.certificate], new Date(NOW.getTime() + 2 * HOUR)), 'expired')
    assert.equal(await reason([ca.certificate], new Date(NOW.getTime() - HOUR)), 'not-yet-valid')
  })
})
