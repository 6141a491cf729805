import assert from 'node:assert/strict'
import {createHash} from 'node:crypto'
import {readFileSync, writeFileSync} from 'node:fs'
import path from 'node:path'
import {after, before, describe, test} from 'node:test'
import {keyPathsIn} from '../../../src/client/key-store.js'
import {CLUSTER, LOGIN, run, startTshCluster, tempDir, TIMEOUT_MS, TSH, tsh, type TshCluster} from './helpers.js'

// `tsh proxy ssh` as stock OpenSSH's ProxyCommand (OpenSSH speaks to the node itself, with the
// key and certificate tsh keeps), and `tsh ls` through the proxy's pipe to the auth API.

describe('tsh proxy ssh and tsh ls', {timeout: 10 * TIMEOUT_MS}, () => {
  let cluster: TshCluster
  let home: string
  let sshArgs: string[]
  let configFile: string

  before(async () => {
    cluster = await startTshCluster([
      {name: 'node-1', labels: {env: 'test', role: 'web'}},
      {name: 'node-2', labels: {env: 'prod'}},
    ])
    await cluster.admin.upsertRole(
      {kind: 'role', version: 'v5', metadata: {name: 'testers'}, spec: {allow: {logins: [LOGIN], node_labels: {env: 'test'}}}},
      {create: true},
    )
    await cluster.admin.upsertRole({kind: 'role', version: 'v5', metadata: {name: 'ops'}, spec: {allow: {logins: [LOGIN], node_labels: {'*': '*'}}}}, {create: true})
    await cluster.admin.createUser({name: 'alice', roles: ['ops'], traits: {}})
    await cluster.admin.createUser({name: 'tess', roles: ['testers'], traits: {}})
    home = await cluster.login('alice')
    const keys = keyPathsIn(home, '127.0.0.1', 'alice', CLUSTER)
    sshArgs = [
      '-F', '/dev/null',
      '-o', 'BatchMode=yes',
      '-o', 'StrictHostKeyChecking=yes',
      '-o', `UserKnownHostsFile=${keys.knownHostsPath}`,
      '-o', 'GlobalKnownHostsFile=/dev/null',
      '-o', 'IdentitiesOnly=yes',
      '-o', 'IdentityAgent=none',
      '-o', `IdentityFile=${keys.keyPath}`,
      '-o', `CertificateFile=${keys.certPath}`,
      '-o', `ProxyCommand=${TSH} proxy ssh %r@%h:%p`,
    ]
    const config = await tsh(home, ['config'])
    assert.equal(config.code, 0, config.stderr)
    configFile = path.join(tempDir('ssh-config'), 'config')
    cluster.homes.push(path.dirname(configFile))
    writeFileSync(configFile, config.stdout)
  })
  after(async () => {
    await cluster?.close()
  })

  const ssh = (args: string[], input?: string) => run('ssh', [...sshArgs, ...args], {env: {TELEPORT_HOME: home}, ...(input !== undefined ? {input} : {})})

  test('ssh -o ProxyCommand="tsh proxy ssh %r@%h:%p" reaches the node (cluster suffix stripped)', async () => {
    const r = await ssh([`${LOGIN}@node-1.${CLUSTER}`, 'id -un'])
    assert.equal(r.code, 0, r.stderr)
    assert.equal(r.stdout, `${LOGIN}\n`)
  })

  test('binary-safe both ways, exit status carried', async () => {
    const payload = Buffer.alloc(3 * 1024 * 1024)
    for (let i = 0; i < payload.length; i++) payload[i] = (i * 7919) & 0xff
    const r = await run('ssh', [...sshArgs, `${LOGIN}@node-2.${CLUSTER}`, 'sha256sum; exit 9'], {env: {TELEPORT_HOME: home}, input: payload})
    assert.equal(r.code, 9, r.stderr)
    assert.equal(r.stdout.split(' ')[0], createHash('sha256').update(payload).digest('hex'))
  })

  test('the ssh_config from tsh config works with plain "ssh host"', async () => {
    const r = await run('ssh', ['-F', configFile, '-o', 'BatchMode=yes', `${LOGIN}@node-2.${CLUSTER}`, 'echo via-config'], {env: {TELEPORT_HOME: home}})
    assert.equal(r.code, 0, r.stderr)
    assert.equal(r.stdout, 'via-config\n')
  })

  test('scp and sftp through it', async () => {
    const dir = tempDir('openssh-scp')
    cluster.homes.push(dir)
    writeFileSync(path.join(dir, 'f.txt'), 'through proxy ssh\n')
    const scp = await run('scp', [...sshArgs, path.join(dir, 'f.txt'), `${LOGIN}@node-1.${CLUSTER}:${dir}/g.txt`], {env: {TELEPORT_HOME: home}})
    assert.equal(scp.code, 0, scp.stderr)
    const sftp = await run('sftp', [...sshArgs, '-b', '-', `${LOGIN}@node-1.${CLUSTER}`], {env: {TELEPORT_HOME: home}, input: `get ${dir}/g.txt ${dir}/h.txt\n`})
    assert.equal(sftp.code, 0, sftp.stderr)
    assert.equal(readFileSync(path.join(dir, 'h.txt'), 'utf8'), 'through proxy ssh\n')
  })

  test('the proxy\'s refusal reaches stderr as it is; exit 1', async () => {
    await cluster.admin.upsertNode({name: 'dup-1', hostname: 'dup', addr: '127.0.0.1:1', labels: {}, cmdLabels: {}, version: ''})
    await cluster.admin.upsertNode({name: 'dup-2', hostname: 'dup', addr: '127.0.0.1:2', labels: {}, cmdLabels: {}, version: ''})
    const direct = await tsh(home, ['proxy', 'ssh', `${LOGIN}@dup:22`])
    assert.equal(direct.code, 1)
    assert.match(direct.stderr, /^error: ambiguous host could match multiple nodes\n/)
    const viaSsh = await ssh([`${LOGIN}@dup.${CLUSTER}`, 'true'])
    assert.equal(viaSsh.code, 255)
    assert.match(viaSsh.stderr, /error: ambiguous host could match multiple nodes/)
  })

  test('tsh proxy ssh errors: not logged in, bad target', async () => {
    const r = await tsh('/nonexistent-home', ['proxy', 'ssh', 'root@node-1:22'])
    assert.equal(r.code, 1)
    assert.match(r.stderr, /^ERROR: Not logged in\./)
    const bad = await tsh(home, ['proxy', 'ssh', 'root@node-1:ssh'])
    assert.equal(bad.code, 2)
    assert.match(bad.stderr, /not a port number/)
  })

  test('tsh ls: the table, sorted, labels joined', async () => {
    const r = await tsh(home, ['ls'])
    assert.equal(r.code, 0, r.stderr)
    const lines = r.stdout.trimEnd().split('\n')
    assert.match(lines[0]!, /^Node Name\s+Address\s+Labels$/)
    const rows = lines.slice(2).map((l) => l.split(/\s+/))
    assert.deepEqual(rows.map((r) => r[0]), ['dup', 'dup', 'node-1', 'node-2'])
    assert.deepEqual(rows[2]!.slice(1), [`127.0.0.1:${cluster.nodes[0]!.service.address.port}`, 'env=test,role=web'])
  })

  test('tsh ls -f json lists the nodes with their labels; filters; names; -v', async () => {
    const json = await tsh(home, ['ls', '-f', 'json', 'env=test'])
    assert.equal(json.code, 0, json.stderr)
    const nodes = JSON.parse(json.stdout) as Array<{name: string; hostname: string; labels: Record<string, string>}>
    assert.deepEqual(nodes.map((n) => [n.hostname, n.name, n.labels]), [['node-1', cluster.nodes[0]!.hostUuid, {env: 'test', role: 'web'}]])
    const names = await tsh(home, ['ls', '--format=names', 'env=prod'])
    assert.equal(names.stdout, 'node-2\n')
    const verbose = await tsh(home, ['ls', '-v', 'role=web'])
    assert.match(verbose.stdout, new RegExp(`^node-1\\s+${cluster.nodes[0]!.hostUuid}\\s+Teleport\\s+127\\.0\\.0\\.1:\\d+\\s+env=test,role=web$`, 'm'))
    const yaml = await tsh(home, ['ls', '-f', 'yaml', 'env=prod'])
    assert.match(yaml.stdout, /hostname: node-2/)
  })

  test('tsh ls shows only the nodes the user\'s roles reach', async () => {
    const tessHome = await cluster.login('tess')
    const r = await tsh(tessHome, ['ls', '-f', 'names'])
    assert.equal(r.code, 0, r.stderr)
    assert.equal(r.stdout, 'node-1\n')
  })
})
