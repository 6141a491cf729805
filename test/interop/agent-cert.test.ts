// Direction b: our ssh2 client authenticates with a certificate identity held by OpenSSH's real
// ssh-agent (`ssh-agent -a sock`, `ssh-add key` with key-cert.pub alongside), certificates made by
// `ssh-keygen -s`. Against our ssh2 server (verifyUserCertAuth) and against sshd, which only
// accepts SHA-2 signatures from the RSA certificate (the agent's SHA-2 sign flags).

import {describe, test, before, after} from 'node:test'
import assert from 'node:assert/strict'
import {join} from 'node:path'
import ssh2 from 'ssh2'
import {generateKeyPair, signHostCert, type ParsedCert} from '../../src/sshca/index.js'
import {agentAuthOptions, certifiedHostKey, hostCertVerifier, verifyUserCertAuth} from '../../src/ssh/index.js'
import {EXEC_GREETING, LOGIN, TIMEOUT_MS, keygen, keygenSign, mustRun, ssh2Exec, startAgent, startSsh2Server, startSshd, tempDir, writeKeyFiles, type Daemon} from './helpers.js'

describe('certificate identities from OpenSSH ssh-agent', {timeout: 10 * TIMEOUT_MS}, () => {
  const dir = tempDir('agent')
  const hostCA = generateKeyPair('host-ca')
  const host = generateKeyPair('host')
  const hostCert = signHostCert({caPrivateKey: hostCA.privateKey, publicKey: host.publicKey, keyId: 'host', principals: ['127.0.0.1'], role: 'Node', authority: 'example'})
  const seen: {cert: ParsedCert; algo: string; hashAlgo: string | undefined}[] = []
  let agent: Awaited<ReturnType<typeof startAgent>> | undefined
  let server: Daemon | undefined
  let sshd: Daemon | undefined
  let userCAPublic = ''

  before(async () => {
    const ca = await keygen(join(dir.path, 'user_ca'))
    userCAPublic = ca.publicKey
    agent = await startAgent(dir.path)
    // One plain key first, then the two certified keys (ssh-add loads key-cert.pub alongside).
    const plain = await keygen(join(dir.path, 'id_plain'))
    await mustRun('ssh-add', [plain.path], {env: agent.env})
    for (const type of ['ed25519', 'rsa'] as const) {
      const key = await keygen(join(dir.path, `id_${type}`), type)
      await keygenSign({caPath: ca.path, keyPath: key.path, id: `agent-${type}`, principals: [LOGIN]})
      await mustRun('ssh-add', [key.path], {env: agent.env})
    }
    const listed = await mustRun('ssh-add', ['-l'], {env: agent.env})
    assert.match(listed, /ED25519-CERT/)
    assert.match(listed, /RSA-CERT/)

    server = await startSsh2Server({
      hostKeys: [certifiedHostKey({privateKey: host.privateKey, certificate: hostCert})],
      authenticate: (ctx, ip) => {
        if (ctx.method !== 'publickey') return false
        const {cert, proven} = verifyUserCertAuth(ctx, {trustedUserCAs: [userCAPublic], clientAddress: ip})
        if (proven) seen.push({cert, algo: ctx.key.algo, hashAlgo: ctx.hashAlgo})
        return true
      },
    })
    const hostKeyPath = writeKeyFiles(dir.path, 'sshd_host', host.privateKey, host.publicKey, hostCert)
    sshd = await startSshd({dir: dir.path, trustedUserCAKeys: [userCAPublic], hostKeyPath, hostCertPath: `${hostKeyPath}-cert.pub`})
  })

  after(async () => {
    await server?.stop()
    await sshd?.stop()
    await agent?.stop()
    dir.cleanup()
  })

  test('ssh2 parses the agent\'s certificate identities (they used to vanish)', async () => {
    const keys = await new Promise<ssh2.ParsedKey[]>((resolve, reject) =>
      new ssh2.OpenSSHAgent(agent!.socket).getIdentities((err, k) => (err ? reject(err) : resolve((k ?? []) as ssh2.ParsedKey[]))),
    )
    const types = keys.map((k) => k.type as string).sort()
    assert.deepEqual(types, ['ssh-ed25519', 'ssh-ed25519', 'ssh-ed25519-cert-v01@openssh.com', 'ssh-rsa', 'ssh-rsa-cert-v01@openssh.com'])
  })

  const login = (port: number, certificatesOnly = true) => {
    const verifier = hostCertVerifier({trustedHostCAs: [hostCA.publicKey], hostname: '127.0.0.1'})
    return ssh2Exec({port, ...verifier.connectOptions(), ...agentAuthOptions({username: LOGIN, agent: agent!.socket, certificatesOnly})}, 'echo agent-ok', (e) => verifier.explain(e))
  }

  test('our ssh2 server accepts the agent-held certificates', async () => {
    seen.length = 0
    const outcome = await login(server!.port)
    assert.equal(outcome.error, undefined, `${outcome.error?.message}\n${server!.logs()}`)
    assert.equal(outcome.stdout, `${EXEC_GREETING}: echo agent-ok\n`)
    // The first certificate in the agent (ed25519) was enough; the plain key was never offered.
    assert.equal(seen.length, 1)
    assert.equal(seen[0]!.cert.keyId, 'agent-ed25519')
    assert.equal(seen[0]!.algo, 'ssh-ed25519-cert-v01@openssh.com')
  })

  test('the RSA certificate signs with SHA-2 through the agent (our server)', async () => {
    seen.length = 0
    // Refuse the ed25519 certificate so the client moves on to the RSA one.
    const rsaOnly = await startSsh2Server({
      hostKeys: [certifiedHostKey({privateKey: host.privateKey, certificate: hostCert})],
      authenticate: (ctx, ip) => {
        if (ctx.method !== 'publickey' || !ctx.key.algo.startsWith('ssh-rsa')) return false
        const {cert, proven} = verifyUserCertAuth(ctx, {trustedUserCAs: [userCAPublic], clientAddress: ip})
        if (proven) seen.push({cert, algo: ctx.key.algo, hashAlgo: ctx.hashAlgo})
        return true
      },
    })
    try {
      const outcome = await login(rsaOnly.port)
      assert.equal(outcome.error, undefined, `${outcome.error?.message}\n${rsaOnly.logs()}`)
      assert.equal(seen.length, 1)
      assert.equal(seen[0]!.cert.keyId, 'agent-rsa')
      assert.equal(seen[0]!.algo, 'ssh-rsa-cert-v01@openssh.com')
      assert.match(seen[0]!.hashAlgo ?? 'sha1', /^sha(256|512)$/)
    } finally {
      await rsaOnly.stop()
    }
  })

  test('OpenSSH sshd accepts the agent-held certificate', async () => {
    const mark = sshd!.logs().length
    const outcome = await login(sshd!.port)
    assert.equal(outcome.error, undefined, `${outcome.error?.message}\n${sshd!.logs()}`)
    assert.equal(outcome.stdout, 'agent-ok\n')
    await sshd!.waitForLog(/Accepted publickey for \S+ .*ED25519-CERT.*ID agent-ed25519/, mark)
  })

  test('OpenSSH sshd accepts the agent-held RSA certificate (rsa-sha2 signature)', async () => {
    // A second agent holding only the RSA certificate, so that is what gets offered.
    const sub = tempDir('agent-rsa')
    const only = await startAgent(sub.path)
    try {
      await mustRun('ssh-add', [join(dir.path, 'id_rsa')], {env: only.env})
      const verifier = hostCertVerifier({trustedHostCAs: [hostCA.publicKey], hostname: '127.0.0.1'})
      const mark = sshd!.logs().length
      const outcome = await ssh2Exec({port: sshd!.port, ...verifier.connectOptions(), ...agentAuthOptions({username: LOGIN, agent: only.socket})}, 'echo rsa-ok')
      assert.equal(outcome.error, undefined, `${outcome.error?.message}\n${sshd!.logs().slice(mark)}`)
      assert.equal(outcome.stdout, 'rsa-ok\n')
      const log = await sshd!.waitForLog(/Accepted publickey for \S+ .*RSA-CERT.*ID agent-rsa/, mark)
      // sshd names the algorithm of the request: the SHA-2 certificate algorithm, never ssh-rsa-cert-v01.
      assert.match(log, /pkalg rsa-sha2-(256|512)-cert-v01@openssh\.com/)
      assert.doesNotMatch(log, /pkalg ssh-rsa-cert-v01@openssh\.com/)
    } finally {
      await only.stop()
      sub.cleanup()
    }
  })
})
