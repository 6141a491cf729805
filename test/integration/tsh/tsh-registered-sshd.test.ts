import assert from 'node:assert/strict'
import {createHash} from 'node:crypto'
import {readFileSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {after, before, describe, test} from 'node:test'
import {keygen, startSshd, tempDir as interopTempDir, type Daemon} from '../../interop/helpers.js'
import {CLUSTER, eventually, LOGIN, run, startTshCluster, TIMEOUT_MS, tsh, type TshCluster} from './helpers.js'

// A stock OpenSSH sshd registered as a node (`tctl create` of sub_kind openssh, here through the
// admin API that tctl calls): listed by tsh ls with its labels and type, reached by name and by
// label with tsh and with stock ssh/scp/sftp through `tsh config`. The sshd itself only checks the
// certificate, so the node's labels and the roles' logins are enforced by the proxy.

describe('a registered OpenSSH node', {timeout: 5 * TIMEOUT_MS}, () => {
  let cluster: TshCluster
  let alice: string
  let bob: string
  let sshd: Daemon
  let sshConfig: string
  const dir = interopTempDir('tsh-registered-sshd')

  before(async () => {
    cluster = await startTshCluster([])
    await cluster.admin.upsertRole({kind: 'role', version: 'v5', metadata: {name: 'ops'}, spec: {allow: {logins: [LOGIN, 'nobody'], node_labels: {'*': '*'}}, deny: {logins: ['nobody']}}}, {create: true})
    await cluster.admin.upsertRole({kind: 'role', version: 'v5', metadata: {name: 'prod-only'}, spec: {allow: {logins: [LOGIN], node_labels: {env: 'prod'}}}}, {create: true})
    await cluster.admin.createUser({name: 'alice', roles: ['ops'], traits: {}})
    await cluster.admin.createUser({name: 'bob', roles: ['prod-only'], traits: {}})
    alice = await cluster.login('alice')
    bob = await cluster.login('bob')
    // Configured only from what tctl gives: a host certificate and the user CA.
    const cas = await cluster.admin.getCAKeys()
    const hostKey = await keygen(join(dir.path, 'host_key'))
    const hostCert = await cluster.admin.signHostCert({hostId: 'sshd-1', principals: ['sshd-1', `sshd-1.${CLUSTER}`], publicKey: hostKey.publicKey})
    writeFileSync(join(dir.path, 'host_key-cert.pub'), hostCert.certificate.trim() + '\n')
    sshd = await startSshd({dir: dir.path, trustedUserCAKeys: cas.user, hostKeyPath: hostKey.path, hostCertPath: join(dir.path, 'host_key-cert.pub')})
    await cluster.admin.registerOpenSSHNode('sshd-1', {hostname: 'sshd-1', addr: `127.0.0.1:${sshd.port}`, labels: {env: 'lab'}}, {create: true})
    const config = await tsh(alice, ['config'])
    assert.equal(config.code, 0, config.stderr)
    sshConfig = join(dir.path, 'ssh_config')
    writeFileSync(sshConfig, config.stdout)
  })
  after(async () => {
    await sshd?.stop()
    await cluster?.close()
    dir.cleanup()
  })

  test('tsh ls lists it with its labels; -v and json say it is OpenSSH; a role without its labels does not see it', async () => {
    const ls = await tsh(alice, ['ls'])
    assert.equal(ls.code, 0, ls.stderr)
    assert.match(ls.stdout, new RegExp(`^sshd-1\\s+127\\.0\\.0\\.1:${sshd.port}\\s+env=lab\\s*$`, 'm'))
    assert.match((await tsh(alice, ['ls', '-v'])).stdout, /^sshd-1\s+sshd-1\s+OpenSSH\s+127\.0\.0\.1:\d+\s+\S*\s*env=lab\s*$/m)
    const json = JSON.parse((await tsh(alice, ['ls', '-f', 'json'])).stdout) as Array<{hostname: string; sub_kind?: string; expires?: string}>
    assert.deepEqual(json.map((n) => [n.hostname, n.sub_kind, n.expires]), [['sshd-1', 'openssh', undefined]])
    assert.doesNotMatch((await tsh(bob, ['ls'])).stdout, /sshd-1/)
  })

  test('tsh ssh by name and by label selector', async () => {
    const byName = await tsh(alice, ['ssh', `${LOGIN}@sshd-1`, 'echo', 'from-sshd'])
    assert.equal(byName.code, 0, byName.stderr)
    assert.equal(byName.stdout, 'from-sshd\n')
    const byLabel = await tsh(alice, ['ssh', `${LOGIN}@env=lab`, 'exit 4'])
    assert.equal(byLabel.code, 4, byLabel.stderr)
  })

  test('the proxy refuses what the roles do not allow there, since sshd cannot tell', async () => {
    const hidden = await tsh(bob, ['ssh', `${LOGIN}@sshd-1`, 'true'])
    assert.equal(hidden.code, 1)
    assert.equal(hidden.stderr, `ERROR: access denied to ${LOGIN} connecting to sshd-1\n`, 'the labels of a node bob cannot see are not told')
    const denied = await tsh(alice, ['ssh', 'nobody@sshd-1', 'true'])
    assert.equal(denied.code, 1)
    assert.equal(denied.stderr, 'ERROR: access denied to nobody connecting to sshd-1\n')
    assert.doesNotMatch(sshd.logs(), /Accepted publickey for nobody/)
    // Why, for the admin: the audit log.
    await eventually(async () => {
      const page = await cluster.admin.searchEvents({from: new Date(0), to: new Date(Date.now() + 60_000), types: ['subsystem']})
      const reasons = page.events.filter((e) => e.code === 'T3001E').map((e) => String(e.exitError))
      return reasons.some((r) => /no role's node_labels match labels env=lab/.test(r)) && reasons.some((r) => /role "ops" denies login "nobody"/.test(r))
    }, 'both refusals audited with their reasons')
  })

  test('stock ssh, scp and sftp through tsh config, byte-exact', async () => {
    const env = {TELEPORT_HOME: alice}
    const r = await run('ssh', ['-F', sshConfig, '-o', 'BatchMode=yes', `${LOGIN}@sshd-1.${CLUSTER}`, 'echo via-config'], {env})
    assert.equal(r.code, 0, r.stderr)
    assert.equal(r.stdout, 'via-config\n')
    const payload = Buffer.alloc(2 * 1024 * 1024 + 3)
    for (let i = 0; i < payload.length; i++) payload[i] = (i * 7919) & 0xff
    writeFileSync(join(dir.path, 'up.bin'), payload)
    const scp = await run('scp', ['-F', sshConfig, '-o', 'BatchMode=yes', join(dir.path, 'up.bin'), `${LOGIN}@sshd-1.${CLUSTER}:${dir.path}/scp.bin`], {env})
    assert.equal(scp.code, 0, scp.stderr)
    const sftp = await run('sftp', ['-F', sshConfig, '-o', 'BatchMode=yes', '-b', '-', `${LOGIN}@sshd-1.${CLUSTER}`], {env, input: `get ${dir.path}/scp.bin ${dir.path}/sftp.bin\n`})
    assert.equal(sftp.code, 0, sftp.stderr)
    const digest = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex')
    assert.equal(digest(join(dir.path, 'sftp.bin')), createHash('sha256').update(payload).digest('hex'))
  })

  test('ssh -J through the proxy: the node\'s labels are checked (the login is inside the stream)', async () => {
    const bobConfig = join(dir.path, 'bob_ssh_config')
    writeFileSync(bobConfig, (await tsh(bob, ['config'])).stdout)
    const jump = (home: string, user: string) => run('ssh', ['-F', home === bob ? bobConfig : sshConfig, '-o', 'BatchMode=yes', '-J', `${user}@127.0.0.1:${cluster.proxy.sshAddress.port}`, `${LOGIN}@sshd-1.${CLUSTER}`, 'echo jumped'], {env: {TELEPORT_HOME: home, SSH_AUTH_SOCK: ''}})
    const ok = await jump(alice, 'alice')
    assert.equal(ok.code, 0, ok.stderr)
    assert.equal(ok.stdout, 'jumped\n')
    const refused = await jump(bob, 'bob')
    assert.notEqual(refused.code, 0)
    assert.match(refused.stderr, /access denied to bob connecting to sshd-1/)
    assert.doesNotMatch(refused.stdout, /jumped/)
  })

  test('removed, it is gone from tsh ls', async () => {
    await cluster.admin.deleteNode('sshd-1')
    assert.doesNotMatch((await tsh(alice, ['ls'])).stdout, /sshd-1/)
  })
})
