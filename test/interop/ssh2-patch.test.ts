// Fails loudly when node_modules/ssh2 is not our patched 1.17.0: `npm ci` reports success even
// when patch-package could not apply patches/ssh2+1.17.0.patch, and everything certificate-based
// would then break in confusing ways (sshd: "Failed publickey"; certificates vanish from agents).

import {test} from 'node:test'
import assert from 'node:assert/strict'
import {createRequire} from 'node:module'
import {readFileSync} from 'node:fs'
import ssh2 from 'ssh2'
import {generateKeyPair, parseCert, signUserCert} from '../../src/sshca/index.js'

const require = createRequire(import.meta.url)
const HINT = 'the ssh2 patch is not applied: run `npx patch-package` (see patches/ssh2+1.17.0.patch)'

function userCert() {
  const ca = generateKeyPair('ca')
  const user = generateKeyPair('user')
  const line = signUserCert({caPrivateKey: ca.privateKey, publicKey: user.publicKey, keyId: 'u', principals: ['u'], ttlMs: 60_000, roles: [], traits: {}, routeToCluster: 'c'})
  return {user, line}
}

test('ssh2 is exactly 1.17.0, the version the patch is for', () => {
  const pkg = JSON.parse(readFileSync(require.resolve('ssh2/package.json'), 'utf8')) as {version: string}
  assert.equal(pkg.version, '1.17.0', 'patches/ssh2+1.17.0.patch only applies to ssh2 1.17.0: pin it exactly')
})

test('ssh2 parses a certificate line into the certified key, keeping the certificate as its wire form', () => {
  const {user, line} = userCert()
  const key = ssh2.utils.parseKey(line)
  assert.ok(!(key instanceof Error), `parseKey: ${key instanceof Error ? key.message : ''}`)
  assert.equal(key.type as string, 'ssh-ed25519-cert-v01@openssh.com')
  assert.ok(key.getPublicSSH().equals(parseCert(line).blob), HINT)
  // It verifies with the embedded key (unpatched, the nonce was read as the key).
  const priv = ssh2.utils.parseKey(user.privateKey)
  const signer = Array.isArray(priv) ? priv[0] : priv
  assert.ok(!(signer instanceof Error))
  const data = Buffer.from('proof')
  assert.equal(key.verify(data, signer.sign(data)), true, HINT)
  // The binary form too (agent identities, a server's K_S).
  const fromBlob = ssh2.utils.parseKey(parseCert(line).blob)
  assert.ok(!(fromBlob instanceof Error), HINT)
  assert.equal(fromBlob.type as string, 'ssh-ed25519-cert-v01@openssh.com')
})

test('ssh2 Client takes a `certificate` connect option and the certificate host key algorithms', () => {
  const {line} = userCert()
  const stranger = generateKeyPair('stranger')
  const client = new ssh2.Client()
  client.on('error', () => {})
  // Unpatched ssh2 ignores `certificate` and would start connecting; patched, it checks the pairing.
  assert.throws(
    () => client.connect({host: '127.0.0.1', port: 9, username: 'u', privateKey: stranger.privateKey, certificate: line}),
    /Cannot use certificate: Certificate is not for this private key/,
    HINT,
  )
  const algorithms = {serverHostKey: ['ssh-ed25519-cert-v01@openssh.com']} as unknown as ssh2.Algorithms
  const probe = new ssh2.Client()
  probe.on('error', () => {})
  // Unpatched: "Unsupported algorithm: ssh-ed25519-cert-v01@openssh.com". The port is closed: we only
  // care that connect() accepts the configuration.
  assert.doesNotThrow(() => probe.connect({host: '127.0.0.1', port: 9, username: 'u', algorithms, readyTimeout: 1}), HINT)
  probe.end()
})
