// Directions c and d with certificates made by OpenSSH's ssh-keygen: our ssh2 server presents a
// host certificate from `ssh-keygen -s ca -h`; our ssh2 client (hostCertVerifier) accepts it, and
// refuses an untrusted, expired, wrong-principal or user certificate, and an unknown plain key,
// with the reason recorded for the caller.

import {describe, test, before, after} from 'node:test'
import assert from 'node:assert/strict'
import {join} from 'node:path'
import {generateKeyPair, signHostCert} from '../../src/sshca/index.js'
import {certifiedHostKey, hostCertVerifier, UnknownHostKeyError, type HostKeyRefusal} from '../../src/ssh/index.js'
import {EXEC_GREETING, TIMEOUT_MS, keygen, keygenSign, ssh2Exec, startSsh2Server, tempDir, type ExecOutcome} from './helpers.js'

describe('our ssh2 client checks host certificates made by ssh-keygen', {timeout: 10 * TIMEOUT_MS}, () => {
  const dir = tempDir('host-verify')
  const user = generateKeyPair('client')
  let caPath = ''
  let caPublic = ''
  let otherCAPublic = ''

  before(async () => {
    const ca = await keygen(join(dir.path, 'host_ca'))
    caPath = ca.path
    caPublic = ca.publicKey
    otherCAPublic = (await keygen(join(dir.path, 'other_ca'))).publicKey
  })
  after(() => dir.cleanup())

  /** Serves `hostKeys`, connects our client with the verifier, returns what happened. */
  async function connectTo(hostKeys: Parameters<typeof startSsh2Server>[0]['hostKeys'], verifierOpts: Partial<Parameters<typeof hostCertVerifier>[0]> = {}) {
    const server = await startSsh2Server({hostKeys, authenticate: () => true})
    try {
      const verifier = hostCertVerifier({trustedHostCAs: [caPublic], hostname: 'node-1.example.com', ...verifierOpts})
      const outcome: ExecOutcome = await ssh2Exec(
        {port: server.port, username: 'anyone', privateKey: user.privateKey, ...verifier.connectOptions()},
        'hostname',
        (err) => verifier.explain(err),
      )
      return {outcome, verifier}
    } finally {
      await server.stop()
    }
  }

  /** A host key of `type` with a certificate from ssh-keygen. */
  async function hostWithCert(name: string, opts: {type?: 'ed25519' | 'rsa' | 'ecdsa'; ca?: string; principals?: string[]; validity?: string; user?: boolean} = {}) {
    const key = await keygen(join(dir.path, name), opts.type ?? 'ed25519')
    const cert = await keygenSign({caPath: opts.ca ?? caPath, keyPath: key.path, id: name, principals: opts.principals ?? ['node-1.example.com', 'node-1'], host: !opts.user, ...(opts.validity ? {validity: opts.validity} : {})})
    return {key, cert}
  }

  const refused = (outcome: ExecOutcome, refusal: HostKeyRefusal | undefined, reason: string) => {
    assert.equal(outcome.ok, false)
    assert.ok(refusal, 'no refusal recorded')
    assert.equal(refusal.reason, reason, refusal.message)
    // explain() replaced ssh2's reasonless "Host denied (verification failed)" with the refusal.
    assert.equal(outcome.error, refusal)
  }

  for (const type of ['ed25519', 'ecdsa', 'rsa'] as const) {
    test(`a trusted ${type} host certificate is accepted`, async () => {
      const {key, cert} = await hostWithCert(`accept-${type}`, {type})
      assert.match(cert, new RegExp(`^${type === 'rsa' ? 'ssh-rsa' : type === 'ecdsa' ? 'ecdsa-sha2-nistp256' : 'ssh-ed25519'}-cert-v01@openssh\\.com `))
      const {outcome, verifier} = await connectTo([certifiedHostKey({privateKey: key.privateKey, certificate: cert})])
      assert.equal(outcome.error, undefined, outcome.error?.message)
      assert.equal(outcome.stdout, `${EXEC_GREETING}: hostname\n`)
      assert.equal(verifier.refusal, undefined)
      assert.equal(verifier.hostCert?.keyId, `accept-${type}`)
      assert.equal(verifier.hostCert?.type, 'host')
    })
  }

  test('a host certificate from an untrusted CA is refused', async () => {
    const {key, cert} = await hostWithCert('untrusted', {ca: join(dir.path, 'other_ca')})
    const {outcome, verifier} = await connectTo([certifiedHostKey({privateKey: key.privateKey, certificate: cert})])
    refused(outcome, verifier.refusal, 'untrusted-ca')
    // Trusting that CA instead makes the same host acceptable.
    const again = await connectTo([certifiedHostKey({privateKey: key.privateKey, certificate: cert})], {trustedHostCAs: [otherCAPublic]})
    assert.equal(again.outcome.error, undefined, again.outcome.error?.message)
  })

  test('an expired host certificate is refused', async () => {
    const {key, cert} = await hostWithCert('expired', {validity: '20200101:20200102'})
    const {outcome, verifier} = await connectTo([certifiedHostKey({privateKey: key.privateKey, certificate: cert})])
    refused(outcome, verifier.refusal, 'expired')
  })

  test('a host certificate for another host name is refused', async () => {
    const {key, cert} = await hostWithCert('wrong-name', {principals: ['node-2.example.com']})
    const {outcome, verifier} = await connectTo([certifiedHostKey({privateKey: key.privateKey, certificate: cert})])
    refused(outcome, verifier.refusal, 'principal')
  })

  test('a user certificate presented as a host key is refused', async () => {
    const {key, cert} = await hostWithCert('user-as-host', {user: true})
    // certifiedHostKey refuses it; hand it to ssh2 directly, as a confused server would.
    assert.throws(() => certifiedHostKey({privateKey: key.privateKey, certificate: cert}), /expected a host certificate/)
    const {outcome, verifier} = await connectTo([{key: key.privateKey, certificate: cert}])
    refused(outcome, verifier.refusal, 'wrong-type')
  })

  test('a plain host key is refused unless known', async () => {
    const key = await keygen(join(dir.path, 'plain'))
    const {outcome, verifier} = await connectTo([key.privateKey])
    refused(outcome, verifier.refusal, 'unknown-host-key')
    assert.ok(verifier.refusal instanceof UnknownHostKeyError)
    const known = await connectTo([key.privateKey], {knownHostKeys: [key.publicKey]})
    assert.equal(known.outcome.error, undefined, known.outcome.error?.message)
    assert.equal(known.verifier.hostCert, undefined)
  })

  test('the host certificate from our own CA (signHostCert) is accepted too', async () => {
    // Same path with sshca-made material, so both CA implementations are covered.
    const ourCA = generateKeyPair('our-host-ca')
    const host = generateKeyPair('node')
    const cert = signHostCert({caPrivateKey: ourCA.privateKey, publicKey: host.publicKey, keyId: 'uuid-1', principals: ['uuid-1.example', 'node-1.example.com'], role: 'Node', authority: 'example'})
    const {outcome, verifier} = await connectTo([certifiedHostKey({privateKey: host.privateKey, certificate: cert})], {trustedHostCAs: [ourCA.publicKey]})
    assert.equal(outcome.error, undefined, outcome.error?.message)
    assert.equal(verifier.hostCert?.hostRole, 'Node')
    assert.equal(verifier.hostCert?.authority, 'example')
  })
})
