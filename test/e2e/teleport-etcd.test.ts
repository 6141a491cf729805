// `teleport start` (auth, proxy and node from bin/) with its cluster state in a real etcd: a user
// added with tctl is still there after a restart, and nothing of the state is in the data dir.
// Then two auth servers with one cluster name on a 3-member etcd share users and CAs.
import assert from 'node:assert/strict'
import {existsSync, readFileSync, writeFileSync} from 'node:fs'
import path from 'node:path'
import {after, before, describe, test} from 'node:test'
import {Etcd3} from 'etcd3'
import {runTool, tctlOk} from '../helpers/cli.js'
import {freePort, startTeleport, writeAuthConfig, type TeleportDaemon} from '../helpers/daemon.js'
import {startEtcd, type EtcdCluster} from '../helpers/etcd.js'
import {tempDir} from '../interop/helpers.js'

describe('teleport start with storage type etcd', {timeout: 300_000}, () => {
  const dir = tempDir('etcd-e2e-')
  const dataDir = path.join(dir.path, 'data')
  let etcd: EtcdCluster
  let config: string
  let teleport: TeleportDaemon | undefined
  const tctl = (...args: string[]) => tctlOk(config, ...args)

  before(async () => {
    etcd = await startEtcd()
    config = path.join(dir.path, 'teleport.yaml')
    writeFileSync(
      config,
      [
        'teleport:',
        '  nodename: etcd-e2e',
        `  data_dir: ${dataDir}`,
        '  storage:',
        '    type: etcd',
        `    peers: [${etcd.peers.join(', ')}]`,
        '    prefix: /teleport-e2e',
        'auth_service:',
        `  listen_addr: 127.0.0.1:${await freePort()}`,
        '  cluster_name: etcd-e2e.test',
        'proxy_service:',
        `  listen_addr: 127.0.0.1:${await freePort()}`,
        `  web_listen_addr: 127.0.0.1:${await freePort()}`,
        `  tunnel_listen_addr: 127.0.0.1:${await freePort()}`,
        'ssh_service:',
        `  listen_addr: 127.0.0.1:${await freePort()}`,
        '',
      ].join('\n'),
    )
  })
  after(async () => {
    await teleport?.stop()
    await etcd?.close()
    dir.cleanup()
  })

  test('a user added with tctl survives a restart; the state is in etcd, not in the data dir', async () => {
    teleport = startTeleport(['-c', config])
    await teleport.waitForLog(/Node service is starting/)
    tctl('users', 'add', 'dana', '--roles=access', '--logins=dana')
    assert.match(tctl('nodes', 'ls'), /etcd-e2e/)
    assert.equal(await teleport.stop(), 0)

    assert.equal(existsSync(path.join(dataDir, 'backend.db')), false, 'no SQLite store in the data dir')
    const client = new Etcd3({hosts: etcd.peers})
    try {
      const keys = await client.getAll().prefix('/teleport-e2e/').keys()
      assert.ok(keys.some((key) => key.startsWith('/teleport-e2e/users/dana')), `dana is in etcd: ${keys.join(' ')}`)
    } finally {
      client.close()
    }

    teleport = startTeleport(['-c', config])
    await teleport.waitForLog(/Node service is starting/)
    assert.match(tctl('users', 'ls'), /^dana\s/m)
  })

  test('with etcd down, teleport start fails with one line naming etcd', async () => {
    await teleport?.stop()
    teleport = undefined
    await etcd.members[0]!.kill()
    const r = runTool('teleport', ['start', '-c', config], {timeout: 60_000})
    assert.equal(r.code, 1, r.stderr)
    const errors = r.stderr.trim().split('\n').filter((line) => !/ INFO /.test(line))
    assert.equal(errors.length, 1, r.stderr)
    assert.match(errors[0]!, /^ERROR: etcd at http:\/\/127\.0\.0\.1:\d+: /)
    assert.doesNotMatch(r.stderr, /\bat \S+:\d+:\d+/, 'no stack trace')
  })
})

describe('two auth servers with one cluster name on a 3-member etcd', {timeout: 300_000}, () => {
  const dirs = [tempDir('etcd-auth-a-'), tempDir('etcd-auth-b-')]
  let etcd: EtcdCluster
  const configs: string[] = []
  const daemons: TeleportDaemon[] = []

  before(async () => {
    etcd = await startEtcd({size: 3})
    const storage = ['teleport:', '  storage:', '    type: etcd', `    peers: [${etcd.peers.join(', ')}]`, '    prefix: /shared'].join('\n')
    for (const dir of dirs) {
      // An auth-only config with its own data dir and port; storage goes into its teleport: section.
      const config = writeAuthConfig(dir.path, await freePort())
      writeFileSync(config, readFileSync(config, 'utf8').replace(/^teleport:\n/, `${storage}\n`))
      configs.push(config)
    }
  })
  after(async () => {
    for (const daemon of daemons) await daemon.stop()
    await etcd?.close()
    for (const dir of dirs) dir.cleanup()
  })

  test('what one auth server writes the other serves, with the same CA; an etcd member down changes nothing', async () => {
    for (const config of configs) {
      const daemon = startTeleport(['-c', config])
      daemons.push(daemon)
      await daemon.waitForLog(/Auth service is starting on/)
    }
    const [a, b] = configs as [string, string]
    tctlOk(a, 'users', 'add', 'erin', '--roles=access', '--logins=erin')
    assert.match(tctlOk(b, 'users', 'ls'), /^erin\s/m)
    const pin = (config: string) => /sha256:[0-9a-f]{64}/.exec(tctlOk(config, 'status'))![0]
    assert.equal(pin(a), pin(b), 'one host CA for both')

    await etcd.members[0]!.kill()
    tctlOk(b, 'users', 'add', 'frank', '--roles=access', '--logins=frank')
    assert.match(tctlOk(a, 'users', 'ls'), /^frank\s/m)
  })
})
