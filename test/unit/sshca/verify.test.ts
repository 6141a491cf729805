import {test} from 'node:test'
import assert from 'node:assert/strict'
import {readFileSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {AccessDeniedError, BadParameterError} from '../../../src/lib/errors.js'
import {
  CertificateError,
  generateKeyPair,
  parseCert,
  publicKeyLine,
  signHostCert,
  signUserCert,
  verifyCert,
  type CertificateErrorReason,
  type UserCertRequest,
  type VerifyOptions,
} from '../../../src/sshca/index.js'
import {NOW, keygen, sshKeygen, sshKeygenStatus, tempDir} from './helpers.js'

const userCA = generateKeyPair('user-ca')
const hostCA = generateKeyPair('host-ca')
const otherCA = generateKeyPair('other-ca')
const alice = generateKeyPair('alice')

function userRequest(overrides: Partial<UserCertRequest> = {}): UserCertRequest {
  return {
    caPrivateKey: userCA.privateKey,
    publicKey: alice.publicKey,
    keyId: 'alice',
    principals: ['alice', 'bob'],
    ttlMs: 3600_000, // valid 09:59:00 .. 11:00:00
    now: NOW,
    roles: ['access'],
    traits: {},
    routeToCluster: 'example.com',
    ...overrides,
  }
}

const aliceCert = signUserCert(userRequest())
const userOpts: VerifyOptions = {trustedCAs: [userCA.publicKey], type: 'user', principal: 'alice', now: NOW}

/** Asserts verifyCert refuses with this reason, and returns the error for message checks. */
function refusal(cert: string | Buffer, opts: Partial<VerifyOptions>, reason: CertificateErrorReason): CertificateError {
  let caught: unknown
  try {
    verifyCert(cert, {...userOpts, ...opts})
  } catch (err) {
    caught = err
  }
  assert.ok(caught instanceof CertificateError, `expected a CertificateError (${reason}), got ${String(caught)}`)
  assert.equal(caught.reason, reason, caught.message)
  assert.ok(caught instanceof AccessDeniedError)
  return caught
}

/** The certificate blob with one byte XORed. */
function flipByte(blob: Buffer, offset: number): Buffer {
  const copy = Buffer.from(blob)
  copy[offset]! ^= 0x01
  return copy
}

test('a good certificate verifies and comes back parsed', () => {
  const cert = verifyCert(aliceCert, userOpts)
  assert.equal(cert.keyId, 'alice')
  assert.deepEqual(cert.roles, ['access'])
  // No principal asked for: only CA, signature, type and time are checked.
  assert.equal(verifyCert(aliceCert, {...userOpts, principal: undefined}).keyId, 'alice')
  // A trusted CA among several, with comments or known_hosts markers, still counts.
  assert.equal(verifyCert(aliceCert, {...userOpts, trustedCAs: [otherCA.publicKey, `@cert-authority * ${userCA.publicKey}`]}).keyId, 'alice')
})

test('one flipped byte inside the key id breaks the signature', (t) => {
  const blob = parseCert(aliceCert).blob
  const keyIdAt = blob.indexOf(Buffer.from('alice'))
  assert.ok(keyIdAt > 0)
  const tampered = flipByte(blob, keyIdAt) // "alice" -> "`lice"
  assert.equal(parseCert(tampered).keyId, '`lice', 'still parses: only the signature can tell')
  const err = refusal(tampered, {principal: undefined}, 'signature')
  assert.match(err.message, /^certificate signature is invalid .*altered or corrupted.*log in again$/)
  // OpenSSH agrees that this certificate is forged.
  const dir = tempDir(t)
  writeFileSync(join(dir, 'tampered-cert.pub'), publicKeyLine(tampered) + '\n')
  const listed = sshKeygenStatus(['-L', '-f', join(dir, 'tampered-cert.pub')])
  assert.notEqual(listed.status, 0)
  assert.match(listed.stderr, /incorrect signature/)
})

test('one flipped byte inside the signature is refused', () => {
  const blob = parseCert(aliceCert).blob
  refusal(flipByte(blob, blob.length - 10), {}, 'signature')
  refusal(flipByte(blob, blob.length - 64), {}, 'signature')
})

test('an edited ParsedCert cannot pass: verification reads the blob, not the fields', () => {
  const parsed = parseCert(aliceCert)
  const edited = {...parsed, principals: ['root'], validBefore: null}
  assert.throws(() => verifyCert(edited, {...userOpts, principal: 'root'}), (err: CertificateError) => err.reason === 'principal')
})

test('an expired certificate is refused with the time it expired and what to do', () => {
  const err = refusal(aliceCert, {now: new Date('2026-11-21T11:00:00Z')}, 'expired')
  assert.equal(err.message, 'certificate expired at 2026-11-21T11:00:00Z (now 2026-11-21T11:00:00Z); log in again')
  refusal(aliceCert, {now: new Date('2026-11-22T10:00:00Z')}, 'expired')
  // The last second inside the window is still good.
  assert.equal(verifyCert(aliceCert, {...userOpts, now: new Date('2026-11-21T10:59:59.999Z')}).keyId, 'alice')
})

test('a certificate used before it is valid is refused; the one-minute backdate is honoured', () => {
  const err = refusal(aliceCert, {now: new Date('2026-11-21T09:58:59Z')}, 'not-yet-valid')
  assert.equal(err.message, "certificate is not valid until 2026-11-21T09:59:00Z (now 2026-11-21T09:58:59Z); check this machine's clock")
  assert.equal(verifyCert(aliceCert, {...userOpts, now: new Date('2026-11-21T09:59:00Z')}).keyId, 'alice')
})

test('a certificate from a CA that is not trusted is refused, however valid its signature', () => {
  const fromOther = signUserCert(userRequest({caPrivateKey: otherCA.privateKey}))
  const err = refusal(fromOther, {}, 'untrusted-ca')
  assert.match(err.message, /^certificate is not signed by a trusted certificate authority/)
  refusal(aliceCert, {trustedCAs: []}, 'untrusted-ca')
  refusal(aliceCert, {trustedCAs: [otherCA.publicKey, hostCA.publicKey]}, 'untrusted-ca')
})

test('a host certificate is refused where a user certificate is expected, and the reverse', () => {
  const hostCert = signHostCert({caPrivateKey: userCA.privateKey, publicKey: alice.publicKey, keyId: 'uuid', principals: ['alice'], role: 'Node', authority: 'example.com', now: NOW})
  const err = refusal(hostCert, {}, 'wrong-type')
  assert.equal(err.message, 'expected a user certificate but got a host certificate')
  refusal(aliceCert, {type: 'host'}, 'wrong-type')
})

test('a login outside the principals is refused, naming the principals', () => {
  const err = refusal(aliceCert, {principal: 'root'}, 'principal')
  assert.equal(err.message, 'certificate does not allow login as "root" (principals: alice, bob)')
  const hostCert = signHostCert({caPrivateKey: hostCA.privateKey, publicKey: alice.publicKey, keyId: 'uuid', principals: ['uuid', 'node1'], role: 'Node', authority: 'example.com', now: NOW})
  const hostOpts = {trustedCAs: [hostCA.publicKey], type: 'host' as const}
  assert.equal(verifyCert(hostCert, {...hostOpts, principal: 'node1', now: NOW}).hostRole, 'Node')
  refusal(hostCert, {...hostOpts, principal: 'node2'}, 'principal')
})

test('source-address is enforced against the client address, IPv4, IPv6 and IPv4-mapped alike', () => {
  const pinned = signUserCert(userRequest({sourceAddress: ['10.0.0.0/8', '192.168.1.7', '2001:db8::/32']}))
  for (const ok of ['10.1.2.3', '::ffff:10.200.0.1', '192.168.1.7', '2001:db8:1::5']) {
    assert.equal(verifyCert(pinned, {...userOpts, clientAddress: ok}).keyId, 'alice', ok)
  }
  const err = refusal(pinned, {clientAddress: '203.0.113.9'}, 'source-address')
  assert.equal(err.message, 'certificate does not allow connections from 203.0.113.9 (allowed: 10.0.0.0/8,192.168.1.7,2001:db8::/32)')
  refusal(pinned, {clientAddress: '::ffff:192.168.1.8'}, 'source-address')
  refusal(pinned, {clientAddress: '2001:db9::1'}, 'source-address')
  // Without a pin any address is fine; without a client address the pin is not checked.
  assert.equal(verifyCert(aliceCert, {...userOpts, clientAddress: '203.0.113.9'}).keyId, 'alice')
  assert.equal(verifyCert(pinned, userOpts).keyId, 'alice')
})

test('a critical option we do not understand is refused (ssh-keygen -O verify-required)', (t) => {
  const dir = tempDir(t)
  const caPath = keygen(dir, 'ca')
  const keyPath = keygen(dir, 'id')
  sshKeygen(['-q', '-s', caPath, '-I', 'fido', '-n', 'alice', '-O', 'verify-required', keyPath + '.pub'])
  const err = refusal(readFileSync(keyPath + '-cert.pub', 'utf8'), {trustedCAs: [readFileSync(caPath + '.pub', 'utf8')]}, 'unknown-critical-option')
  assert.match(err.message, /"verify-required"/)
})

test('garbage is refused as malformed, and a bad trusted-CA list is the caller\'s error', () => {
  refusal('not a certificate', {}, 'malformed')
  refusal(alice.publicKey, {}, 'malformed')
  refusal(parseCert(aliceCert).blob.subarray(0, 100), {}, 'malformed')
  assert.throws(() => verifyCert(aliceCert, {...userOpts, trustedCAs: ['garbage']}), BadParameterError)
})

test('the refusal carries the parsed certificate, for audit logging', () => {
  const err = refusal(aliceCert, {principal: 'root'}, 'principal')
  assert.equal(err.cert?.keyId, 'alice')
})
