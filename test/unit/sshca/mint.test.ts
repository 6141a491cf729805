import {test} from 'node:test'
import assert from 'node:assert/strict'
import {generateKeyPairSync} from 'node:crypto'
import {readFileSync} from 'node:fs'
import {BadParameterError} from '../../../src/lib/errors.js'
import {blobFromKeyObject, generateKeyPair, parseCert, publicKeyLine, signHostCert, signUserCert, verifyCert, type UserCertRequest} from '../../../src/sshca/index.js'
import {SshReader} from '../../../src/sshca/wire.js'
import {NOW, keygen, tempDir, fullUserRequest} from './helpers.js'

const ca = generateKeyPair('user-ca')
const user = generateKeyPair('alice')

function userRequest(overrides: Partial<UserCertRequest> = {}): UserCertRequest {
  return fullUserRequest(ca.privateKey, user.publicKey, {traits: {logins: ['alice', 'root'], kubernetes_groups: []}, sourceAddress: ['192.168.0.0/16', '10.1.2.3', '2001:db8::/32'], ...overrides})
}

/** Validity and the extensions section, in wire order, read straight from an ed25519 certificate blob. */
function readWire(blob: Buffer): {validAfter: bigint; validBefore: bigint; extensions: Array<{name: string; data: Buffer}>} {
  const r = new SshReader(blob)
  r.string() // type
  r.string() // nonce
  r.string() // ed25519 key
  r.uint64() // serial
  r.uint32() // type code
  r.string() // key id
  r.string() // principals
  const validAfter = r.uint64()
  const validBefore = r.uint64()
  r.string() // critical options
  const ext = new SshReader(r.string())
  const extensions = []
  while (ext.remaining > 0) extensions.push({name: ext.text(), data: ext.string()})
  return {validAfter, validBefore, extensions}
}

test('a user certificate carries every field Teleport puts in it', () => {
  const line = signUserCert(userRequest())
  assert.match(line, /^ssh-ed25519-cert-v01@openssh\.com AAAA[A-Za-z0-9+/]+=*$/)
  const cert = parseCert(line)
  assert.equal(cert.type, 'user')
  assert.equal(cert.keyId, 'alice')
  assert.equal(cert.serial, 12345678901234567890n)
  assert.deepEqual(cert.principals, ['alice', 'root'])
  assert.equal(cert.validAfter.toISOString(), '2026-11-21T09:59:00.000Z', 'backdated one minute')
  assert.equal(cert.validBefore?.toISOString(), '2026-11-21T22:00:00.000Z', 'now + TTL')
  assert.deepEqual(cert.criticalOptions, {'source-address': '192.168.0.0/16,10.1.2.3,2001:db8::/32'})
  assert.deepEqual(cert.extensions, {
    'permit-X11-forwarding': '',
    'permit-agent-forwarding': '',
    'permit-port-forwarding': '',
    'permit-pty': '',
    'teleport-roles': '{"version":"v1","roles":["access","auditor"]}',
    'teleport-route-to-cluster': 'example.com',
    'teleport-traits': '{"logins":["alice","root"],"kubernetes_groups":[]}',
  })
  assert.deepEqual(cert.roles, ['access', 'auditor'])
  assert.deepEqual(cert.traits, {logins: ['alice', 'root'], kubernetes_groups: []})
  assert.equal(cert.routeToCluster, 'example.com')
  assert.equal(cert.hostRole, undefined)
  assert.equal(cert.authority, undefined)
  assert.equal(cert.publicKey, user.publicKey.split(' ').slice(0, 2).join(' '))
  assert.equal(cert.signatureKey, ca.publicKey.split(' ').slice(0, 2).join(' '))
  assert.equal(cert.line, line)
  assert.deepEqual(cert.blob, Buffer.from(line.split(' ')[1]!, 'base64'))
})

test('permit-* extensions appear only when asked, permit-pty always; no source-address unless given', () => {
  const cert = parseCert(
    signUserCert(userRequest({permitAgentForwarding: false, permitPortForwarding: undefined, permitX11Forwarding: false, sourceAddress: undefined})),
  )
  assert.deepEqual(Object.keys(cert.extensions), ['permit-pty', 'teleport-roles', 'teleport-route-to-cluster', 'teleport-traits'])
  assert.deepEqual(cert.criticalOptions, {})
  assert.deepEqual(parseCert(signUserCert(userRequest({sourceAddress: []}))).criticalOptions, {})
})

test('extensions are in byte order on the wire, flags empty and values wrapped in an SSH string', () => {
  const exts = readWire(parseCert(signUserCert(userRequest())).blob).extensions
  const names = exts.map((e) => e.name)
  // Byte order puts upper-case X before lower-case a; localeCompare would not.
  assert.deepEqual(names, [
    'permit-X11-forwarding',
    'permit-agent-forwarding',
    'permit-port-forwarding',
    'permit-pty',
    'teleport-roles',
    'teleport-route-to-cluster',
    'teleport-traits',
  ])
  for (const e of exts.filter((x) => x.name.startsWith('permit-'))) assert.equal(e.data.length, 0, e.name)
  const route = exts.find((e) => e.name === 'teleport-route-to-cluster')!.data
  assert.deepEqual(route, Buffer.concat([Buffer.from([0, 0, 0, 11]), Buffer.from('example.com')]))
})

test('a host certificate carries role and authority, no permit-* extensions, and never expires by default', () => {
  const host = generateKeyPair('node')
  const line = signHostCert({
    caPrivateKey: ca.privateKey,
    publicKey: host.publicKey,
    keyId: '5b2f3c9e-uuid',
    principals: ['5b2f3c9e-uuid.example.com', '5b2f3c9e-uuid', 'node1', 'localhost', '127.0.0.1', '::1'],
    role: 'Node',
    authority: 'example.com',
    now: NOW,
  })
  const cert = parseCert(line)
  assert.equal(cert.type, 'host')
  assert.equal(cert.keyId, '5b2f3c9e-uuid')
  assert.equal(cert.serial, 0n)
  assert.deepEqual(cert.principals, ['5b2f3c9e-uuid.example.com', '5b2f3c9e-uuid', 'node1', 'localhost', '127.0.0.1', '::1'])
  assert.equal(cert.validAfter.toISOString(), '2026-11-21T09:59:00.000Z')
  assert.equal(cert.validBefore, null)
  assert.deepEqual(cert.extensions, {'x-teleport-authority': 'example.com', 'x-teleport-role': 'Node'})
  assert.deepEqual(cert.criticalOptions, {})
  assert.equal(cert.hostRole, 'Node')
  assert.equal(cert.authority, 'example.com')
  assert.deepEqual(cert.roles, [])
  assert.deepEqual(cert.traits, {})
  assert.equal(cert.routeToCluster, undefined)
  // "forever" is all ones on the wire, as ssh-keygen -V forever writes it.
  assert.equal(readWire(cert.blob).validBefore, 0xffffffffffffffffn)

  const expiring = parseCert(signHostCert({caPrivateKey: ca.privateKey, publicKey: host.publicKey, keyId: 'u', principals: ['u'], role: 'Proxy', authority: 'c', ttlMs: 3600_000, now: NOW}))
  assert.equal(expiring.validBefore?.toISOString(), '2026-11-21T11:00:00.000Z')
  assert.equal(expiring.hostRole, 'Proxy')
})

test('an RSA or ECDSA CA made by ssh-keygen can sign too (rsa-sha2-512 / ecdsa), and the result verifies', (t) => {
  const dir = tempDir(t)
  for (const type of ['rsa', 'ecdsa'] as const) {
    const caPath = keygen(dir, `ca-${type}`, type)
    const line = signUserCert(userRequest({caPrivateKey: readFileSync(caPath, 'utf8')}))
    const cert = verifyCert(line, {trustedCAs: [readFileSync(caPath + '.pub', 'utf8')], type: 'user', principal: 'root', now: NOW})
    assert.equal(cert.keyId, 'alice', type)
  }
})

test('signing refuses requests that would make a dangerous or useless certificate', () => {
  const cert = signUserCert(userRequest())
  const bad: Array<[string, Partial<UserCertRequest>]> = [
    ['no principals (OpenSSH reads that as any principal)', {principals: []}],
    ['empty principal', {principals: ['']}],
    ['no key id', {keyId: ''}],
    ['zero TTL', {ttlMs: 0}],
    ['negative TTL', {ttlMs: -5}],
    ['certificate instead of key', {publicKey: cert}],
    ['bad source address', {sourceAddress: ['10.0.0.0/33']}],
    ['garbage source address', {sourceAddress: ['example.com']}],
    ['garbage CA key', {caPrivateKey: 'nope'}],
    ['garbage public key', {publicKey: 'ssh-ed25519'}],
  ]
  for (const [why, overrides] of bad) assert.throws(() => signUserCert(userRequest(overrides)), BadParameterError, why)
  assert.throws(
    () => signHostCert({caPrivateKey: ca.privateKey, publicKey: user.publicKey, keyId: 'u', principals: ['u'], role: 'Root' as 'Node', authority: 'c'}),
    BadParameterError,
  )
})

test('parseCert reads a line, a line with a comment, a Buffer line and the wire blob alike', () => {
  const line = signUserCert(userRequest())
  const fromLine = parseCert(line)
  const withComment = parseCert(`${line} alice@laptop\n`)
  assert.equal(withComment.comment, 'alice@laptop')
  assert.deepEqual({...withComment, comment: undefined}, {...fromLine, comment: undefined})
  assert.deepEqual(parseCert(Buffer.from(line + '\n')), fromLine)
  assert.deepEqual(parseCert(fromLine.blob), fromLine)
})

test('parseCert throws BadParameterError on garbage', () => {
  const blob = parseCert(signUserCert(userRequest())).blob
  const garbage: Array<string | Buffer> = [
    '',
    'hello world',
    user.publicKey, // a plain key is not a certificate
    'ssh-ed25519-cert-v01@openssh.com AAAA',
    blob.subarray(0, blob.length - 1), // truncated
    Buffer.concat([blob, Buffer.from([0])]), // trailing byte
    Buffer.from([0, 0, 0, 3, 1, 2]),
  ]
  for (const input of garbage) assert.throws(() => parseCert(input), BadParameterError, String(input).slice(0, 40))
})

test('RSA keys under 2048 bits are never certified, user or host; 2048 bits are', () => {
  const rsaLine = (bits: number) => publicKeyLine(blobFromKeyObject(generateKeyPairSync('rsa', {modulusLength: bits}).publicKey))
  for (const bits of [512, 1024, 2040]) {
    const refused = (err: unknown) => err instanceof BadParameterError && err.message === `refusing to certify a ${bits}-bit RSA key: RSA keys must have at least 2048 bits`
    assert.throws(() => signUserCert(userRequest({publicKey: rsaLine(bits)})), refused)
    assert.throws(() => signHostCert({caPrivateKey: ca.privateKey, publicKey: rsaLine(bits), keyId: 'u', principals: ['u'], role: 'Node', authority: 'c'}), refused)
  }
  assert.match(signUserCert(userRequest({publicKey: rsaLine(2048)})), /^ssh-rsa-cert-v01@openssh\.com /)
})
