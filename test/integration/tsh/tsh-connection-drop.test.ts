import assert from 'node:assert/strict'
import {rmSync, writeFileSync} from 'node:fs'
import path from 'node:path'
import {after, before, describe, test} from 'node:test'
import {startTeleport, type TeleportDaemon} from '../../helpers/daemon.js'
import {eventually, exited, LOGIN, spawnTsh, startTshCluster, tempDir, TIMEOUT_MS, type TshCluster} from './helpers.js'

// A node that dies under a running `tsh ssh`: a real node process (`teleport start --roles=node`)
// joined to the in-process cluster, killed with SIGKILL while the session runs.

describe('tsh ssh when the node dies', {timeout: 4 * TIMEOUT_MS}, () => {
  let cluster: TshCluster
  let node: TeleportDaemon | undefined
  let dir: string
  let home: string

  before(async () => {
    cluster = await startTshCluster([])
    await cluster.admin.upsertRole({kind: 'role', version: 'v5', metadata: {name: 'drop'}, spec: {allow: {logins: [LOGIN], node_labels: {'*': '*'}}}}, {create: true})
    await cluster.admin.createUser({name: 'alice', roles: ['drop'], traits: {}})
    home = await cluster.login('alice')
    dir = tempDir('drop')
    const config = path.join(dir, 'teleport.yaml')
    writeFileSync(config, 'ssh_service:\n  enabled: true\n  listen_addr: 127.0.0.1:0\n')
    const {token} = await cluster.admin.addToken({roles: ['node'], ttlMs: 5 * 60_000})
    const caPin = (await cluster.admin.ping()).caPins[0]!
    node = startTeleport(['--config', config, '--roles=node', '--data-dir', path.join(dir, 'data'), '--nodename', 'doomed', '--auth-server', `127.0.0.1:${cluster.auth.address.port}`, '--token', token, '--ca-pin', caPin])
    await node.waitForLog(/Node service is starting/)
    await eventually(async () => (await cluster.admin.listNodes()).some((n) => n.hostname === 'doomed'), 'the node to register')
  })

  after(async () => {
    await node?.stop()
    await cluster?.close()
    if (dir) rmSync(dir, {recursive: true, force: true})
  })

  test('tsh says the connection was closed by the remote host and exits 255', async () => {
    // stdin stays open: the remote cat runs until its node goes away.
    const child = spawnTsh(home, ['ssh', `${LOGIN}@doomed`, 'echo started; cat'], {stdio: ['pipe', 'pipe', 'pipe']})
    try {
      await eventually(async () => child.output().includes('started\n'), 'the session to start')
      const dead = exited(node!.child)
      node!.child.kill('SIGKILL')
      await dead
      node = undefined
      assert.equal(await exited(child), 255)
      assert.equal(child.output(), 'started\nConnection to doomed closed by remote host.\n')
    } finally {
      child.kill()
    }
  })
})
