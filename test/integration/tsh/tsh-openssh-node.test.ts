import assert from 'node:assert/strict'
import {mkdirSync, readFileSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {after, before, describe, test} from 'node:test'
import {keygen, startSshd, tempDir as interopTempDir, type Daemon} from '../../interop/helpers.js'
import {LOGIN, startTshCluster, TIMEOUT_MS, tsh, type TshCluster} from './helpers.js'

// tsh to a plain OpenSSH sshd that is not one of our nodes: the proxy dials it directly, sshd
// accepts the cluster's user certificates (TrustedUserCAKeys), and tsh checks its host
// certificate (from `tctl auth sign`) against the cluster's host CA. One without a host
// certificate is refused by tsh.

describe('tsh to a plain OpenSSH node by direct dial', {timeout: 5 * TIMEOUT_MS}, () => {
  let cluster: TshCluster
  let home: string
  let certified: Daemon
  let plain: Daemon
  const dir = interopTempDir('tsh-sshd')

  before(async () => {
    cluster = await startTshCluster([])
    await cluster.admin.upsertRole({kind: 'role', version: 'v5', metadata: {name: 'ops'}, spec: {allow: {logins: [LOGIN], node_labels: {'*': '*'}}}}, {create: true})
    await cluster.admin.createUser({name: 'alice', roles: ['ops'], traits: {}})
    home = await cluster.login('alice')
    const cas = await cluster.admin.getCAKeys()
    const hostKey = await keygen(join(dir.path, 'host_key'))
    const hostCert = await cluster.admin.signHostCert({hostId: 'plain-sshd', principals: ['127.0.0.1', 'plain-sshd'], publicKey: hostKey.publicKey})
    writeFileSync(join(dir.path, 'host_key-cert.pub'), hostCert.certificate.trim() + '\n')
    certified = await startSshd({dir: dir.path, trustedUserCAKeys: cas.user, hostKeyPath: hostKey.path, hostCertPath: join(dir.path, 'host_key-cert.pub')})
    const plainKey = await keygen(join(dir.path, 'plain_key'))
    const plainDir = join(dir.path, 'plain')
    mkdirSync(plainDir)
    plain = await startSshd({dir: plainDir, trustedUserCAKeys: cas.user, hostKeyPath: plainKey.path})
  })
  after(async () => {
    await certified?.stop()
    await plain?.stop()
    await cluster?.close()
    dir.cleanup()
  })

  test('tsh ssh and tsh scp reach it', async () => {
    const r = await tsh(home, ['ssh', '-p', String(certified.port), `${LOGIN}@127.0.0.1`, 'echo', 'plain-sshd'])
    assert.equal(r.code, 0, r.stderr)
    assert.equal(r.stdout, 'plain-sshd\n')
    const seven = await tsh(home, ['ssh', '-p', String(certified.port), `${LOGIN}@127.0.0.1`, 'exit 7'])
    assert.equal(seven.code, 7)
    writeFileSync(join(dir.path, 'up.txt'), 'to plain sshd\n')
    const cp = await tsh(home, ['scp', '-P', String(certified.port), join(dir.path, 'up.txt'), `${LOGIN}@127.0.0.1:${dir.path}/down.txt`])
    assert.equal(cp.code, 0, cp.stderr)
    assert.equal(readFileSync(join(dir.path, 'down.txt'), 'utf8'), 'to plain sshd\n')
  })

  test('a host certificate that does not name the host is refused', async () => {
    const r = await tsh(home, ['ssh', '-p', String(certified.port), `${LOGIN}@localhost`, 'true'])
    assert.equal(r.code, 1)
    assert.match(r.stderr, /^ERROR: the node "localhost" is not trusted: /)
  })

  test('a server without a host certificate from the cluster is refused', async () => {
    const r = await tsh(home, ['ssh', '-p', String(plain.port), `${LOGIN}@127.0.0.1`, 'true'])
    assert.equal(r.code, 1)
    assert.match(r.stderr, /^ERROR: the node "127\.0\.0\.1" is not trusted: host "127\.0\.0\.1" presented a plain ssh-ed25519 key \(SHA256:[^)]+\) without a certificate from a trusted host CA \(the host needs a host certificate from the cluster\)\n$/)
  })

  test('a login sshd does not accept: access denied', async () => {
    const r = await tsh(home, ['ssh', '-p', String(certified.port), 'nobody@127.0.0.1', 'true'])
    assert.equal(r.code, 1)
    assert.equal(r.stderr, 'ERROR: access denied to nobody connecting to 127.0.0.1\n')
  })
})
