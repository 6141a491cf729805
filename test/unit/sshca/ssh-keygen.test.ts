// Interop with the real OpenSSH tools: what ssh-keygen prints for our certificates, and what
// we make of the certificates ssh-keygen signs.

import {test} from 'node:test'
import assert from 'node:assert/strict'
import {readFileSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {fingerprint, generateKeyPair, parseCert, signHostCert, signUserCert, verifyCert, type UserCertRequest} from '../../../src/sshca/index.js'
import {SshReader} from '../../../src/sshca/wire.js'
import {NOW, keygen, keygenTime, sshKeygen, tempDir, writePrivate, fullUserRequest} from './helpers.js'

interface KeygenListing {
  fields: Record<string, string>
  principals: string[]
  criticalOptions: string[]
  extensions: string[]
}

/** Splits `ssh-keygen -L` output into its "Name: value" fields and its three indented lists. */
function readListing(output: string): KeygenListing {
  const listing: KeygenListing = {fields: {}, principals: [], criticalOptions: [], extensions: []}
  let list: string[] | undefined
  for (const raw of output.split('\n').slice(1)) {
    const line = raw.trim()
    if (!line) continue
    const field = /^(Type|Public key|Signing CA|Key ID|Serial|Valid|Principals|Critical Options|Extensions):\s*(.*)$/.exec(line)
    if (field) {
      const [, name, value] = field as unknown as [string, string, string]
      listing.fields[name] = value
      list = {Principals: listing.principals, 'Critical Options': listing.criticalOptions, Extensions: listing.extensions}[name]
      if (value === '(none)') list = undefined
      continue
    }
    assert.ok(list, `unexpected ssh-keygen -L line: ${raw}`)
    list.push(line)
  }
  return listing
}

/** ssh-keygen prints extension data it does not know as hex; undo that and unwrap the SSH string. */
function unknownOptionValue(line: string, name: string): string {
  const m = new RegExp(`^${name} UNKNOWN OPTION: ([0-9a-f]+) \\(len (\\d+)\\)$`).exec(line)
  assert.ok(m, `not an unknown-option line for ${name}: ${line}`)
  const data = Buffer.from(m[1]!, 'hex')
  assert.equal(data.length, Number(m[2]))
  const reader = new SshReader(data)
  const value = reader.text()
  reader.end()
  return value
}

const ca = generateKeyPair('ca')
const userKey = generateKeyPair('alice')

function userRequest(overrides: Partial<UserCertRequest> = {}): UserCertRequest {
  return fullUserRequest(ca.privateKey, userKey.publicKey, overrides)
}

function listCert(dir: string, name: string, line: string): KeygenListing {
  const path = join(dir, name)
  writeFileSync(path, line + '\n')
  return readListing(sshKeygen(['-L', '-f', path]))
}

test('ssh-keygen -L shows every field of our user certificate', (t) => {
  const dir = tempDir(t)
  const listing = listCert(dir, 'user-cert.pub', signUserCert(userRequest()))
  assert.equal(listing.fields['Type'], 'ssh-ed25519-cert-v01@openssh.com user certificate')
  assert.equal(listing.fields['Public key'], `ED25519-CERT ${fingerprint(userKey.publicKey)}`)
  assert.equal(listing.fields['Signing CA'], `ED25519 ${fingerprint(ca.publicKey)} (using ssh-ed25519)`)
  assert.equal(listing.fields['Key ID'], '"alice"')
  assert.equal(listing.fields['Serial'], '12345678901234567890')
  assert.equal(listing.fields['Valid'], 'from 2026-11-21T09:59:00 to 2026-11-21T22:00:00')
  assert.deepEqual(listing.principals, ['alice', 'root'])
  assert.deepEqual(listing.criticalOptions, ['source-address 192.168.0.0/16,10.1.2.3'])
  assert.deepEqual(listing.extensions.slice(0, 4), ['permit-X11-forwarding', 'permit-agent-forwarding', 'permit-port-forwarding', 'permit-pty'])
  assert.equal(listing.extensions.length, 7)
  assert.deepEqual(JSON.parse(unknownOptionValue(listing.extensions[4]!, 'teleport-roles')), {version: 'v1', roles: ['access', 'auditor']})
  assert.equal(unknownOptionValue(listing.extensions[5]!, 'teleport-route-to-cluster'), 'example.com')
  assert.deepEqual(JSON.parse(unknownOptionValue(listing.extensions[6]!, 'teleport-traits')), {logins: ['alice', 'root']})
})

test('ssh-keygen -L shows a minimal user certificate with only permit-pty and no critical options', (t) => {
  const dir = tempDir(t)
  const listing = listCert(dir, 'min-cert.pub', signUserCert(userRequest({permitAgentForwarding: false, permitPortForwarding: false, permitX11Forwarding: false, sourceAddress: undefined, serial: undefined})))
  assert.equal(listing.fields['Serial'], '0')
  assert.equal(listing.fields['Critical Options'], '(none)')
  assert.deepEqual(listing.criticalOptions, [])
  assert.equal(listing.extensions[0], 'permit-pty')
  assert.deepEqual(listing.extensions.map((e) => e.split(' ')[0]), ['permit-pty', 'teleport-roles', 'teleport-route-to-cluster', 'teleport-traits'])
})

test('ssh-keygen -L shows our host certificate: host type, forever or bounded validity, role and authority', (t) => {
  const dir = tempDir(t)
  const host = generateKeyPair('node')
  const request = {caPrivateKey: ca.privateKey, publicKey: host.publicKey, keyId: 'host-uuid', principals: ['host-uuid.example.com', 'host-uuid', 'localhost'], role: 'Node' as const, authority: 'example.com', now: NOW}
  const listing = listCert(dir, 'host-cert.pub', signHostCert(request))
  assert.equal(listing.fields['Type'], 'ssh-ed25519-cert-v01@openssh.com host certificate')
  assert.equal(listing.fields['Public key'], `ED25519-CERT ${fingerprint(host.publicKey)}`)
  assert.equal(listing.fields['Signing CA'], `ED25519 ${fingerprint(ca.publicKey)} (using ssh-ed25519)`)
  assert.equal(listing.fields['Key ID'], '"host-uuid"')
  assert.equal(listing.fields['Serial'], '0')
  assert.equal(listing.fields['Valid'], 'after 2026-11-21T09:59:00', 'no end date: valid before is "forever"')
  assert.deepEqual(listing.principals, ['host-uuid.example.com', 'host-uuid', 'localhost'])
  assert.equal(listing.fields['Critical Options'], '(none)')
  assert.equal(listing.extensions.length, 2)
  assert.equal(unknownOptionValue(listing.extensions[0]!, 'x-teleport-authority'), 'example.com')
  assert.equal(unknownOptionValue(listing.extensions[1]!, 'x-teleport-role'), 'Node')

  const bounded = listCert(dir, 'host2-cert.pub', signHostCert({...request, role: 'Auth', ttlMs: 24 * 3600_000}))
  assert.equal(bounded.fields['Valid'], 'from 2026-11-21T09:59:00 to 2026-11-22T10:00:00')
  assert.equal(unknownOptionValue(bounded.extensions[1]!, 'x-teleport-role'), 'Auth')
})

test('ssh-keygen accepts the signatures of our RSA- and ECDSA-signed certificates', (t) => {
  const dir = tempDir(t)
  for (const [type, algorithm] of [['rsa', 'RSA SHA256:.* \\(using rsa-sha2-512\\)'], ['ecdsa', 'ECDSA SHA256:.* \\(using ecdsa-sha2-nistp256\\)']] as const) {
    const caPath = keygen(dir, `ca-${type}`, type)
    const listing = listCert(dir, `${type}-cert.pub`, signUserCert(userRequest({caPrivateKey: readFileSync(caPath, 'utf8')})))
    assert.match(listing.fields['Signing CA']!, new RegExp(`^${algorithm}$`))
  }
})

test('a user certificate made by ssh-keygen -s parses and verifies', (t) => {
  const dir = tempDir(t)
  const caPath = keygen(dir, 'ca')
  const keyPath = keygen(dir, 'id')
  const from = new Date('2026-11-21T00:00:00Z')
  const to = new Date('2026-11-22T00:00:00Z')
  sshKeygen(['-q', '-s', caPath, '-I', 'key-id-1', '-n', 'p1,p2', '-V', `${keygenTime(from)}:${keygenTime(to)}`, '-z', '42', keyPath + '.pub'])
  const line = readFileSync(keyPath + '-cert.pub', 'utf8')
  const caLine = readFileSync(caPath + '.pub', 'utf8')
  const cert = verifyCert(line, {trustedCAs: [caLine], type: 'user', principal: 'p2', now: NOW})
  assert.equal(cert.type, 'user')
  assert.equal(cert.keyId, 'key-id-1')
  assert.equal(cert.serial, 42n)
  assert.deepEqual(cert.principals, ['p1', 'p2'])
  assert.deepEqual(cert.validAfter, from)
  assert.deepEqual(cert.validBefore, to)
  assert.deepEqual(cert.criticalOptions, {})
  // ssh-keygen's defaults for a user certificate.
  assert.deepEqual(cert.extensions, {'permit-X11-forwarding': '', 'permit-agent-forwarding': '', 'permit-port-forwarding': '', 'permit-pty': '', 'permit-user-rc': ''})
  assert.deepEqual(cert.roles, [])
  assert.deepEqual(cert.traits, {})
  assert.equal(cert.publicKey, readFileSync(keyPath + '.pub', 'utf8').split(' ').slice(0, 2).join(' '))
  assert.equal(cert.signatureKey, caLine.split(' ').slice(0, 2).join(' '))
  assert.equal(cert.comment, 'id')
})

test('ssh-keygen critical options and custom extensions read back as ssh-keygen wrote them', (t) => {
  const dir = tempDir(t)
  const caPath = keygen(dir, 'ca')
  const keyPath = keygen(dir, 'id')
  sshKeygen(['-q', '-s', caPath, '-I', 'opts', '-n', 'u', '-O', 'clear', '-O', 'source-address=10.0.0.0/8,::1', '-O', 'force-command=/bin/true', '-O', 'extension:teleport-roles={"version":"v1","roles":["dev"]}', '-O', 'permit-pty', keyPath + '.pub'])
  const cert = verifyCert(readFileSync(keyPath + '-cert.pub', 'utf8'), {trustedCAs: [readFileSync(caPath + '.pub', 'utf8')], type: 'user', principal: 'u', now: NOW, clientAddress: '10.9.8.7'})
  assert.deepEqual(cert.criticalOptions, {'force-command': '/bin/true', 'source-address': '10.0.0.0/8,::1'})
  assert.deepEqual(cert.extensions, {'permit-pty': '', 'teleport-roles': '{"version":"v1","roles":["dev"]}'})
  assert.deepEqual(cert.roles, ['dev'])
  assert.equal(cert.validBefore, null, 'no -V: forever')
})

test('a host certificate made by ssh-keygen -s -h parses and verifies as a host certificate', (t) => {
  const dir = tempDir(t)
  const caPath = keygen(dir, 'host-ca')
  const keyPath = keygen(dir, 'ssh_host_ed25519_key')
  sshKeygen(['-q', '-s', caPath, '-h', '-I', 'node-1', '-n', 'node1.example.com,node1', keyPath + '.pub'])
  const cert = verifyCert(readFileSync(keyPath + '-cert.pub', 'utf8'), {trustedCAs: [readFileSync(caPath + '.pub', 'utf8')], type: 'host', principal: 'node1', now: NOW})
  assert.equal(cert.type, 'host')
  assert.equal(cert.keyId, 'node-1')
  assert.deepEqual(cert.principals, ['node1.example.com', 'node1'])
  assert.deepEqual(cert.validAfter, new Date(0))
  assert.equal(cert.validBefore, null)
  assert.deepEqual(cert.extensions, {})
  assert.equal(cert.hostRole, undefined)
})

test('certificates from ssh-keygen RSA and ECDSA CAs, over RSA and ECDSA keys, verify', (t) => {
  const dir = tempDir(t)
  const cases = [
    {ca: 'rsa', key: 'rsa', sign: ['-t', 'rsa-sha2-256']},
    {ca: 'rsa', key: 'ecdsa', sign: []},
    {ca: 'ecdsa', key: 'ed25519', sign: []},
    {ca: 'ecdsa', key: 'rsa', sign: []},
  ] as const
  for (const [i, c] of cases.entries()) {
    const caPath = keygen(dir, `ca${i}`, c.ca, c.ca === 'ecdsa' ? ['-b', '521'] : [])
    const keyPath = keygen(dir, `key${i}`, c.key, c.key === 'ecdsa' ? ['-b', '384'] : [])
    sshKeygen(['-q', '-s', caPath, ...c.sign, '-I', `case-${i}`, '-n', 'p', keyPath + '.pub'])
    const line = readFileSync(keyPath + '-cert.pub', 'utf8')
    const cert = verifyCert(line, {trustedCAs: [readFileSync(caPath + '.pub', 'utf8')], type: 'user', principal: 'p', now: NOW})
    assert.equal(cert.keyId, `case-${i}`)
    assert.equal(cert.publicKey, readFileSync(keyPath + '.pub', 'utf8').split(' ').slice(0, 2).join(' '), `case ${i}`)
    assert.equal(fingerprint(line), fingerprint(readFileSync(keyPath + '.pub', 'utf8')))
  }
})

test('a certificate signed with SHA-1 RSA (ssh-keygen -t ssh-rsa) is refused, as OpenSSH does by default', (t) => {
  const dir = tempDir(t)
  const caPath = keygen(dir, 'ca', 'rsa')
  const keyPath = keygen(dir, 'id')
  sshKeygen(['-q', '-s', caPath, '-t', 'ssh-rsa', '-I', 'old', '-n', 'p', keyPath + '.pub'])
  assert.throws(
    () => verifyCert(readFileSync(keyPath + '-cert.pub', 'utf8'), {trustedCAs: [readFileSync(caPath + '.pub', 'utf8')], type: 'user', now: NOW}),
    (err: {reason?: string; message: string}) => err.reason === 'signature' && /SHA-1/.test(err.message),
  )
})

test('ssh-keygen -l on our private key file agrees with the fingerprint of our public key', (t) => {
  const dir = tempDir(t)
  const pair = generateKeyPair('fp')
  const path = writePrivate(join(dir, 'key'), pair.privateKey)
  assert.equal(sshKeygen(['-l', '-E', 'sha256', '-f', path]).split(' ')[1], fingerprint(pair.publicKey))
})
