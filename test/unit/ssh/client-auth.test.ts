import {describe, test} from 'node:test'
import assert from 'node:assert/strict'
import ssh2 from 'ssh2'
import type {ParsedKey} from 'ssh2'
import {BadParameterError} from '../../../src/lib/errors.js'
import {generateKeyPair, parseCert, signHostCert, signUserCert} from '../../../src/sshca/index.js'
import {agentAuthOptions, certAuthOptions, certifiedHostKey, CertificateOnlyAgent} from '../../../src/ssh/index.js'

const ca = generateKeyPair('ca')
const alice = generateKeyPair('alice')
const userCert = signUserCert({caPrivateKey: ca.privateKey, publicKey: alice.publicKey, keyId: 'alice', principals: ['root'], ttlMs: 60_000, roles: [], traits: {}, routeToCluster: 'c'})
const hostCert = signHostCert({caPrivateKey: ca.privateKey, publicKey: alice.publicKey, keyId: 'h', principals: ['h'], role: 'Node', authority: 'c'})

describe('certAuthOptions', () => {
  test('builds publickey-only options carrying the certificate line', () => {
    const opts = certAuthOptions({username: 'root', privateKey: alice.privateKey, certificate: `${userCert} comment`})
    assert.deepEqual(opts, {username: 'root', privateKey: alice.privateKey, certificate: parseCert(userCert).line, authHandler: ['publickey']})
  })

  test('accepts the certificate as a wire blob too', () => {
    const opts = certAuthOptions({username: 'root', privateKey: alice.privateKey, certificate: parseCert(userCert).blob})
    assert.equal(opts.certificate, parseCert(userCert).line)
  })

  test('refuses a host certificate, a plain key and a certificate for another key', () => {
    assert.throws(() => certAuthOptions({username: 'root', privateKey: alice.privateKey, certificate: hostCert}), /expected a user certificate/)
    assert.throws(() => certAuthOptions({username: 'root', privateKey: alice.privateKey, certificate: alice.publicKey}), BadParameterError)
    assert.throws(() => certAuthOptions({username: 'root', privateKey: generateKeyPair('bob').privateKey, certificate: userCert}), /not for this private key/)
  })
})

describe('certifiedHostKey', () => {
  test('pairs a host key with its host certificate', () => {
    assert.deepEqual(certifiedHostKey({privateKey: alice.privateKey, certificate: hostCert}), {key: alice.privateKey, certificate: parseCert(hostCert).line})
  })

  test('refuses a user certificate and a certificate for another key', () => {
    assert.throws(() => certifiedHostKey({privateKey: alice.privateKey, certificate: userCert}), /expected a host certificate/)
    assert.throws(() => certifiedHostKey({privateKey: generateKeyPair('x').privateKey, certificate: hostCert}), /not for this host key/)
  })

  test('ssh2 Server takes it and refuses a mismatched pair itself', () => {
    const server = new ssh2.Server({hostKeys: [certifiedHostKey({privateKey: alice.privateKey, certificate: hostCert})]})
    assert.ok(server)
    assert.throws(() => new ssh2.Server({hostKeys: [{key: generateKeyPair('x').privateKey, certificate: hostCert}]}), /Cannot use certificate/)
  })
})

describe('agentAuthOptions', () => {
  const plainKey = ssh2.utils.parseKey(alice.publicKey) as ParsedKey
  const certKey = ssh2.utils.parseKey(userCert) as ParsedKey
  const signed: unknown[][] = []
  class FakeAgent extends ssh2.BaseAgent<ParsedKey> {
    override getIdentities(cb: (err: Error | null, keys?: ParsedKey[]) => void): void {
      cb(null, [plainKey, certKey])
    }
    override sign(pubKey: ParsedKey, data: Buffer, options: unknown, cb?: (err: Error | null, sig?: Buffer) => void): void {
      signed.push([pubKey, data, options])
      ;(typeof options === 'function' ? options : cb)!(null, Buffer.from('sig'))
    }
  }

  test('offers only certificate identities by default, and passes sign options through', async () => {
    const opts = agentAuthOptions({username: 'root', agent: new FakeAgent()})
    assert.deepEqual(opts.authHandler, ['agent'])
    const agent = opts.agent as CertificateOnlyAgent
    const keys = await new Promise<ParsedKey[]>((resolve) => agent.getIdentities((_e, k) => resolve(k as ParsedKey[])))
    assert.deepEqual(keys.map((k) => k.type as string), ['ssh-ed25519-cert-v01@openssh.com'])
    const sig = await new Promise<Buffer | undefined>((resolve) => agent.sign(keys[0]!, Buffer.from('d'), {hash: 'sha256'}, (_e, s) => resolve(s)))
    assert.equal(sig?.toString(), 'sig')
    assert.deepEqual(signed.at(-1)![2], {hash: 'sha256'})
  })

  test('certificatesOnly: false hands the agent over as is', () => {
    const fake = new FakeAgent()
    assert.equal(agentAuthOptions({username: 'root', agent: fake, certificatesOnly: false}).agent, fake)
  })

  test('a socket path becomes an OpenSSH agent', () => {
    const opts = agentAuthOptions({username: 'root', agent: '/nonexistent.sock', certificatesOnly: false})
    assert.ok(opts.agent instanceof ssh2.OpenSSHAgent)
  })
})
