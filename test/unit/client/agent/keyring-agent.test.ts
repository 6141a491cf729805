import assert from 'node:assert/strict'
import {once} from 'node:events'
import {describe, test} from 'node:test'
import ssh2, {type ParsedKey} from 'ssh2'
import {identityKeyring} from '../../../../src/client/agent/identity-agent.js'
import {KeyringAgent} from '../../../../src/client/agent/keyring-agent.js'
import {agentStream} from '../../../../src/client/agent/server.js'
import {generateKeyPair, parseCert, signUserCert} from '../../../../src/sshca/index.js'

// tsh's own key and certificate as an in-memory agent (tsh ssh -A without an SSH agent), driven
// by ssh2's agent client, as a forwarded agent channel would be.

const ca = generateKeyPair('ca')
const key = generateKeyPair('alice')
const certificate = signUserCert({caPrivateKey: ca.privateKey, publicKey: key.publicKey, keyId: 'alice', principals: ['root'], ttlMs: 3_600_000, roles: ['access'], traits: {}, routeToCluster: 'example.com'})
const keyring = identityKeyring({privateKey: key.privateKey, certificate, profile: {user: 'alice'}})

describe('KeyringAgent', () => {
  test('lists the certificate and signs with its key', async () => {
    const agent = new KeyringAgent(keyring)
    const keys = await new Promise<ParsedKey[]>((resolve, reject) => agent.getIdentities((err, found) => (err ? reject(err) : resolve(found as ParsedKey[]))))
    assert.equal(keys.length, 1)
    assert.equal(keys[0]!.type as string, 'ssh-ed25519-cert-v01@openssh.com')
    assert.ok(keys[0]!.getPublicSSH().equals(parseCert(certificate).blob))
    const data = Buffer.from('session data to sign')
    const signature = await new Promise<Buffer>((resolve, reject) => agent.sign(keys[0]!, data, {}, (err, sig) => (err ? reject(err) : resolve(sig!))))
    const plain = ssh2.utils.parseKey(key.publicKey) as ParsedKey
    assert.equal(plain.verify(data, signature), true)
  })

  test('a malformed frame ends the stream with an error', async () => {
    const stream = agentStream(keyring)
    const failed = once(stream, 'error')
    stream.write(Buffer.from([0xff, 0xff, 0xff, 0xff, 11]))
    const [err] = (await failed) as [Error]
    assert.match(err.message, /out of range/)
  })
})
