import {test} from 'node:test'
import assert from 'node:assert/strict'
import {createHash} from 'node:crypto'
import {readFileSync} from 'node:fs'
import {join} from 'node:path'
import ssh2 from 'ssh2'
import {BadParameterError} from '../../../src/lib/errors.js'
import {caPin, fingerprint, generateKeyPair, parsePublicKeyLine, publicKeyFromPrivate, signUserCert, verifySshSignature} from '../../../src/sshca/index.js'
import {NOW, keygen, sshKeygen, tempDir, writePrivate} from './helpers.js'

/** "type base64" without the comment. */
function keyPart(line: string): string {
  return line.trim().split(/\s+/).slice(0, 2).join(' ')
}

test('generateKeyPair makes an Ed25519 OpenSSH private key and a matching authorized_keys line', () => {
  const pair = generateKeyPair('alice@laptop')
  assert.match(pair.privateKey, /^-----BEGIN OPENSSH PRIVATE KEY-----\n[A-Za-z0-9+/=\n]+-----END OPENSSH PRIVATE KEY-----\n$/)
  assert.match(pair.publicKey, /^ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAA[A-Za-z0-9+/]+=* alice@laptop$/)
  assert.equal(generateKeyPair().publicKey.split(' ').length, 2, 'no comment when none is given')
  assert.notEqual(generateKeyPair().publicKey, generateKeyPair().publicKey)
})

test('ssh-keygen -y reads our private key and derives our public key and comment', (t) => {
  const dir = tempDir(t)
  const pair = generateKeyPair('round-trip')
  const path = writePrivate(join(dir, 'id_ed25519'), pair.privateKey)
  assert.equal(sshKeygen(['-y', '-f', path]).trim(), pair.publicKey)
})

test('ssh2 parseKey reads our private key, and its signatures verify with our public key', () => {
  const pair = generateKeyPair('for-ssh2')
  const parsed = ssh2.utils.parseKey(pair.privateKey)
  assert.ok(!(parsed instanceof Error), `ssh2 refused the key: ${parsed instanceof Error ? parsed.message : ''}`)
  const key = Array.isArray(parsed) ? parsed[0]! : parsed
  assert.equal(key.type, 'ssh-ed25519')
  assert.equal(key.comment, 'for-ssh2')
  const blob = parsePublicKeyLine(pair.publicKey).blob
  assert.deepEqual(key.getPublicSSH(), blob)
  const data = Buffer.from('session id and request')
  const signature = Buffer.concat([Buffer.from([0, 0, 0, 11]), Buffer.from('ssh-ed25519'), Buffer.from([0, 0, 0, 64]), key.sign(data)])
  assert.equal(verifySshSignature(blob, data, signature).ok, true)
  assert.equal(verifySshSignature(blob, Buffer.from('other data'), signature).ok, false)
})

test('publicKeyFromPrivate matches ssh-keygen for our keys and for ssh-keygen Ed25519, RSA and ECDSA keys', (t) => {
  const dir = tempDir(t)
  const ours = generateKeyPair('x')
  assert.equal(publicKeyFromPrivate(ours.privateKey), keyPart(ours.publicKey))
  for (const type of ['ed25519', 'rsa', 'ecdsa'] as const) {
    const path = keygen(dir, `k-${type}`, type)
    assert.equal(publicKeyFromPrivate(readFileSync(path, 'utf8')), keyPart(readFileSync(path + '.pub', 'utf8')), type)
  }
})

test('a passphrase-protected key is refused with a BadParameterError that says what to do', (t) => {
  const dir = tempDir(t)
  const path = keygen(dir, 'locked', 'ed25519', ['-N', 'secret'])
  assert.throws(() => publicKeyFromPrivate(readFileSync(path, 'utf8')), (err: unknown) => err instanceof BadParameterError && /passphrase/.test(err.message))
  assert.throws(() => publicKeyFromPrivate('not a key'), BadParameterError)
})

test('a private key file whose public half does not match its private half is refused', () => {
  const pair = generateKeyPair()
  const other = parsePublicKeyLine(generateKeyPair().publicKey).blob
  const own = parsePublicKeyLine(pair.publicKey).blob
  const lines = pair.privateKey.trim().split('\n')
  const body = Buffer.from(lines.slice(1, -1).join(''), 'base64')
  const at = body.indexOf(own) // the first copy is the file's public key, outside the private section
  other.copy(body, at)
  const forged = [lines[0], ...body.toString('base64').match(/.{1,70}/g)!, lines.at(-1), ''].join('\n')
  assert.throws(() => publicKeyFromPrivate(forged), (err: unknown) => err instanceof BadParameterError && /does not match/.test(err.message))
})

test('fingerprint equals ssh-keygen -l for a key and for a certificate (the certified key)', (t) => {
  const dir = tempDir(t)
  const ca = generateKeyPair('ca')
  const user = generateKeyPair('user')
  const cert = signUserCert({caPrivateKey: ca.privateKey, publicKey: user.publicKey, keyId: 'alice', principals: ['alice'], ttlMs: 3_600_000, now: NOW, roles: [], traits: {}, routeToCluster: 'c'})
  const certPath = join(dir, 'id-cert.pub')
  const keyPath = join(dir, 'id.pub')
  writePrivate(certPath, cert + '\n')
  writePrivate(keyPath, user.publicKey + '\n')
  const keygenFingerprint = (path: string) => sshKeygen(['-l', '-E', 'sha256', '-f', path]).split(' ')[1]
  assert.match(fingerprint(user.publicKey), /^SHA256:[A-Za-z0-9+/]{43}$/)
  assert.equal(fingerprint(user.publicKey), keygenFingerprint(keyPath))
  assert.equal(fingerprint(cert), keygenFingerprint(certPath))
  assert.equal(fingerprint(cert), fingerprint(user.publicKey))
  assert.notEqual(fingerprint(ca.publicKey), fingerprint(user.publicKey))
})

test('caPin is sha256 hex over the key wire blob: the same digest ssh-keygen -l prints in base64', (t) => {
  const dir = tempDir(t)
  const ca = generateKeyPair('ca')
  const path = join(dir, 'ca.pub')
  writePrivate(path, ca.publicKey + '\n')
  const keygenBase64 = sshKeygen(['-l', '-E', 'sha256', '-f', path]).split(' ')[1]!.replace('SHA256:', '')
  const pin = caPin(ca.publicKey)
  assert.match(pin, /^sha256:[0-9a-f]{64}$/)
  assert.equal(pin, 'sha256:' + Buffer.from(keygenBase64, 'base64').toString('hex'))
  const blob = Buffer.from(ca.publicKey.split(' ')[1]!, 'base64')
  assert.equal(pin, 'sha256:' + createHash('sha256').update(blob).digest('hex'))
  assert.equal(caPin(ca.publicKey), caPin(keyPart(ca.publicKey)), 'the comment does not change the pin')
})

test('caPin refuses a certificate and garbage', () => {
  const ca = generateKeyPair()
  const cert = signUserCert({caPrivateKey: ca.privateKey, publicKey: generateKeyPair().publicKey, keyId: 'a', principals: ['a'], ttlMs: 60_000, now: NOW, roles: [], traits: {}, routeToCluster: 'c'})
  assert.throws(() => caPin(cert), BadParameterError)
  assert.throws(() => caPin('ssh-ed25519 !!!!'), BadParameterError)
})

test('parsePublicKeyLine skips known_hosts / authorized_keys markers and keeps the comment', () => {
  const ca = generateKeyPair()
  const parsed = parsePublicKeyLine(`@cert-authority *.example.com ${ca.publicKey} my ca`)
  assert.equal(parsed.type, 'ssh-ed25519')
  assert.equal(parsed.comment, 'my ca')
  assert.deepEqual(parsed.blob, Buffer.from(ca.publicKey.split(' ')[1]!, 'base64'))
  // The type written in the line must match the blob.
  assert.throws(() => parsePublicKeyLine(`ssh-rsa ${ca.publicKey.split(' ')[1]}`), BadParameterError)
})
