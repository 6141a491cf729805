import assert from 'node:assert/strict'
import {spawn, type ChildProcess} from 'node:child_process'
import {chmodSync, chownSync, rmSync, writeFileSync} from 'node:fs'
import path from 'node:path'
import {fileURLToPath} from 'node:url'
import {after, before, describe, test} from 'node:test'
import {nobodySkipReason} from '../../helpers/cli.js'
import {TIMEOUT_MS, eventually, knownHostsFile, nodeIdentity, run, sshOptions, startCluster, tempDir, userCert, type TestCluster, type UserKey} from './helpers.js'

// A node not running as root can only start sessions as its own OS user: it says so at start and
// refuses other logins with that reason. Run here as "nobody" (the test itself runs as root).

const FIXTURE = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures', 'run-node.ts')

describe('a node not running as root', {timeout: 6 * TIMEOUT_MS, skip: nobodySkipReason()}, () => {
  let cluster: TestCluster
  let dir: string
  let nodeDir: string
  let child: ChildProcess
  let stderr = ''
  let port: number
  let erin: UserKey
  let knownHosts: string

  before(async () => {
    cluster = await startCluster()
    dir = tempDir('unpriv-user')
    nodeDir = tempDir('unpriv-node')
    chownSync(nodeDir, 65534, 65534)
    chmodSync(nodeDir, 0o700)
    await cluster.admin.upsertRole({kind: 'role', version: 'v5', metadata: {name: 'both'}, spec: {allow: {logins: ['root', 'nobody'], node_labels: {'*': '*'}}}}, {create: true})
    await cluster.admin.createUser({name: 'erin', roles: ['both'], traits: {}})
    erin = await userCert(cluster, dir, 'erin')
    knownHosts = knownHostsFile(dir, cluster.hostCA)
    const {identity, authApi} = await nodeIdentity(cluster, '6a6a6a6a-0000-4000-8000-000000000001', 'unprivileged')
    await authApi.close()
    const configFile = path.join(nodeDir, 'config.json')
    writeFileSync(configFile, JSON.stringify({identity, authPort: cluster.port, dataDir: path.join(nodeDir, 'data')}), {mode: 0o600})
    chownSync(configFile, 65534, 65534)
    child = spawn('setpriv', ['--reuid', 'nobody', '--regid', 'nogroup', '--clear-groups', '--', process.execPath, '--import', 'tsx', FIXTURE, configFile], {
      env: {PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: nodeDir, TMPDIR: nodeDir},
      cwd: path.dirname(FIXTURE),
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let stdout = ''
    child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()))
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()))
    port = await eventually(() => (/"port":(\d+)/.exec(stdout)?.[1] ? Number(/"port":(\d+)/.exec(stdout)![1]) : child.exitCode !== null ? Promise.reject(new Error(stderr)) : undefined), 'the node to listen')
  })

  after(async () => {
    if (child && child.exitCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve))
      child.kill('SIGTERM')
      await exited
    }
    await cluster?.close()
    for (const d of [dir, nodeDir]) if (d) rmSync(d, {recursive: true, force: true})
  })

  test('it says so at start, in one WARN line', () => {
    assert.match(stderr, /WARN +\[NODE\] Not running as root: sessions can only be started as "nobody"; other logins are refused\./)
    assert.match(stderr, /INFO +\[NODE\] Node service is starting on 127\.0\.0\.1:\d+\./)
  })

  test('another login is refused with that reason; its own login is let in', async () => {
    const refused = await run('ssh', [...sshOptions(erin, knownHosts, port), 'root@127.0.0.1', 'true'])
    assert.equal(refused.code, 255)
    assert.match(refused.stderr, /access denied/)
    const events = await eventually(async () => {
      const found = (await cluster.admin.searchEvents({from: new Date(Date.now() - 60_000), to: new Date(Date.now() + 60_000), types: ['auth']})).events
      return found.find((e) => e.user === 'erin' && e.login === 'root')
    }, 'the refusal in the audit log')
    assert.match(String(events.error), /not running as root and can only start sessions as its own user "nobody", not "root"/)
    // nobody's shell is nologin: the login is accepted and the shell says it is not available.
    const own = await run('ssh', [...sshOptions(erin, knownHosts, port), 'nobody@127.0.0.1', 'true'])
    assert.doesNotMatch(own.stderr, /Permission denied/)
    assert.match(own.stdout + own.stderr, /not available/)
  })
})
