import assert from 'node:assert/strict'
import {writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {after, before, describe, test} from 'node:test'
import {keygen, LOGIN, run, startSshd, tempDir, TIMEOUT_MS, writeKeyFiles, type Daemon} from '../../interop/helpers.js'
import {generateKeyPair} from '../../../src/sshca/index.js'
import {CLUSTER, startTestCluster, type TestCluster} from './helpers.js'

// Stock OpenSSH through the proxy: the client logs in to the proxy with its user certificate
// (checking the proxy's host certificate against the cluster CA), asks for the proxy: subsystem
// as its ProxyCommand, and reaches a plain sshd (host certificate from the cluster) by direct
// dial. Both SSH connections are real OpenSSH; the proxy only relays.

describe('OpenSSH through the proxy', {timeout: 120_000}, () => {
  let cluster: TestCluster
  let sshd: Daemon
  const dir = tempDir('proxy-openssh')
  let identity: string
  let certificate: string
  let knownHosts: string

  before(async () => {
    cluster = await startTestCluster()
    const cas = await cluster.admin.getCAKeys()
    const hostKey = await keygen(join(dir.path, 'sshd_host_key'))
    const hostCert = await cluster.admin.signHostCert({hostId: 'plain-sshd', principals: ['127.0.0.1', 'plain-sshd'], publicKey: hostKey.publicKey})
    const hostCertPath = join(dir.path, 'sshd_host_key-cert.pub')
    writeFileSync(hostCertPath, hostCert.certificate.trim() + '\n')
    sshd = await startSshd({dir: dir.path, trustedUserCAKeys: cas.user, hostKeyPath: hostKey.path, hostCertPath})

    await cluster.admin.createUser({name: 'olive', roles: ['access'], traits: {logins: [LOGIN]}})
    const key = generateKeyPair()
    const signed = await cluster.admin.signUserCert({username: 'olive', publicKey: key.publicKey, ttlMs: 600_000})
    identity = writeKeyFiles(dir.path, 'olive', key.privateKey, key.publicKey, signed.certificate)
    certificate = `${identity}-cert.pub`
    knownHosts = join(dir.path, 'known_hosts')
    writeFileSync(knownHosts, cas.host.map((ca) => `@cert-authority * ${ca.split(/\s+/).slice(0, 2).join(' ')}`).join('\n') + '\n')
  })
  after(async () => {
    await sshd?.stop()
    await cluster?.close()
    dir.cleanup()
  })

  const common = () => [
    '-F', '/dev/null',
    '-o', 'BatchMode=yes',
    '-o', 'StrictHostKeyChecking=yes',
    '-o', `UserKnownHostsFile=${knownHosts}`,
    '-o', 'GlobalKnownHostsFile=/dev/null',
    '-o', 'UpdateHostKeys=no',
    '-o', 'IdentitiesOnly=yes',
    '-o', 'IdentityAgent=none',
    '-o', `IdentityFile=${identity}`,
    '-o', `CertificateFile=${certificate}`,
    '-o', `ConnectTimeout=${TIMEOUT_MS / 1000}`,
  ]
  const proxyCommand = (target: string) => `ssh ${common().map((a) => (a.includes(' ') ? `"${a}"` : a)).join(' ')} -T -p ${cluster.proxy.sshAddress.port} -s ${LOGIN}@127.0.0.1 ${target}`

  test('ssh -o ProxyCommand="ssh -s proxy:%h:%p@cluster" reaches a plain sshd', async () => {
    const result = await run('ssh', [...common(), '-o', `ProxyCommand=${proxyCommand(`proxy:%h:%p@${CLUSTER}`)}`, '-p', String(sshd.port), `${LOGIN}@127.0.0.1`, 'echo through-the-proxy'])
    assert.equal(result.code, 0, result.stderr)
    assert.equal(result.stdout, 'through-the-proxy\n')
  })

  test('the proxy\'s error reaches the OpenSSH user on stderr', async () => {
    await cluster.admin.upsertNode({name: 'a1', hostname: 'twin', addr: '127.0.0.1:1', labels: {}, cmdLabels: {}, version: ''})
    await cluster.admin.upsertNode({name: 'a2', hostname: 'twin', addr: '127.0.0.1:2', labels: {}, cmdLabels: {}, version: ''})
    const result = await run('ssh', [...common(), '-o', `ProxyCommand=${proxyCommand('proxy:twin:%p')}`, `${LOGIN}@twin`, 'true'])
    assert.notEqual(result.code, 0)
    assert.match(result.stderr, /error: ambiguous host could match multiple nodes/)
  })
})
