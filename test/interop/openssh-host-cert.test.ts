// Direction c (and e) against real OpenSSH ssh: our ssh2 server presents a host certificate from
// our host CA; `ssh` with an @cert-authority known_hosts line and StrictHostKeyChecking=yes
// connects, logs in with our user certificate (checked by verifyUserCertAuth), and runs a command.
// A line naming another CA fails; a client that wants the plain key still gets it.

import {describe, test, before, after} from 'node:test'
import assert from 'node:assert/strict'
import {writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {generateKeyPair, signHostCert, signUserCert, type ParsedCert} from '../../src/sshca/index.js'
import {certifiedHostKey, verifyUserCertAuth} from '../../src/ssh/index.js'
import {EXEC_GREETING, LOGIN, TIMEOUT_MS, opensshExec, startSsh2Server, tempDir, writeKeyFiles, type Daemon} from './helpers.js'

describe('OpenSSH ssh trusts our ssh2 server through its host certificate', {timeout: 4 * TIMEOUT_MS}, () => {
  const dir = tempDir('ssh-host')
  const hostCA = generateKeyPair('host-ca')
  const otherCA = generateKeyPair('other-ca')
  const userCA = generateKeyPair('user-ca')
  const host = generateKeyPair('node-1')
  const user = generateKeyPair('alice')
  const accepted: ParsedCert[] = []
  let server: Daemon | undefined
  let identity = ''

  before(async () => {
    const hostCert = signHostCert({caPrivateKey: hostCA.privateKey, publicKey: host.publicKey, keyId: 'node-1-uuid', principals: ['node-1-uuid', '127.0.0.1'], role: 'Node', authority: 'example'})
    const userCert = signUserCert({caPrivateKey: userCA.privateKey, publicKey: user.publicKey, keyId: 'alice', principals: [LOGIN], ttlMs: 3_600_000, roles: ['access'], traits: {}, routeToCluster: 'example'})
    identity = writeKeyFiles(dir.path, 'id_ed25519', user.privateKey, user.publicKey, userCert)
    server = await startSsh2Server({
      hostKeys: [certifiedHostKey({privateKey: host.privateKey, certificate: hostCert})],
      authenticate: (ctx, ip) => {
        if (ctx.method !== 'publickey') return false
        const {cert, proven} = verifyUserCertAuth(ctx, {trustedUserCAs: [userCA.publicKey], clientAddress: ip})
        if (proven) accepted.push(cert)
        return true
      },
    })
  })

  after(async () => {
    await server?.stop()
    dir.cleanup()
  })

  const ssh = (knownHostsLine: string, extra: string[] = []) => {
    const knownHosts = join(dir.path, `known_hosts_${Math.random().toString(36).slice(2)}`)
    writeFileSync(knownHosts, knownHostsLine + '\n')
    return opensshExec({port: server!.port, knownHosts, identity, certificate: `${identity}-cert.pub`, command: 'whoami', extra: ['-v', ...extra]})
  }

  test('@cert-authority for our host CA: connects, sees the certificate, runs the command', async () => {
    const before = accepted.length
    const r = await ssh(`@cert-authority * ${hostCA.publicKey}`)
    assert.equal(r.code, 0, r.stderr)
    assert.equal(r.stdout, `${EXEC_GREETING}: whoami\n`)
    assert.match(r.stderr, /kex: host key algorithm: ssh-ed25519-cert-v01@openssh\.com/)
    assert.match(r.stderr, /Server host certificate: ssh-ed25519-cert-v01@openssh\.com .*ID "node-1-uuid"/)
    assert.match(r.stderr, /is known and matches the ED25519-CERT host certificate/)
    assert.equal(accepted.length, before + 1)
    assert.equal(accepted.at(-1)!.keyId, 'alice')
  })

  test('@cert-authority naming another CA: host key verification fails', async () => {
    const r = await ssh(`@cert-authority * ${otherCA.publicKey}`)
    assert.notEqual(r.code, 0)
    assert.equal(r.stdout, '')
    assert.match(r.stderr, /No matching CA found/)
    assert.match(r.stderr, /Host key verification failed/)
  })

  test('a client that only wants the plain key still gets it', async () => {
    const hostPlain = host.publicKey.split(' ').slice(0, 2).join(' ')
    const r = await ssh(`[127.0.0.1]:${server!.port} ${hostPlain}`, ['-o', 'HostKeyAlgorithms=ssh-ed25519'])
    assert.equal(r.code, 0, r.stderr)
    assert.equal(r.stdout, `${EXEC_GREETING}: whoami\n`)
    assert.match(r.stderr, /kex: host key algorithm: ssh-ed25519\r?\n/)
    assert.match(r.stderr, /Server host key: ssh-ed25519 SHA256:/)
    assert.doesNotMatch(r.stderr, /Server host certificate/)
  })
})
