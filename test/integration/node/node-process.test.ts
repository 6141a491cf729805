import assert from 'node:assert/strict'
import {spawn, type ChildProcess} from 'node:child_process'
import {rmSync, writeFileSync} from 'node:fs'
import path from 'node:path'
import {after, before, describe, test} from 'node:test'
import {repoRoot} from '../../helpers/cli.js'
import {TIMEOUT_MS, knownHostsFile, run, sshOptions, startCluster, tempDir, userCert, type TestCluster, type UserKey} from './helpers.js'

// The node as a user starts it: `teleport start --roles=node --token ... --ca-pin ... --auth-server ...`
// (a real process, the built entrypoint), against an auth service in this process. Skipped while
// the daemon's supervisor does not run the node role yet.

interface Started {
  child: ChildProcess
  port: number | undefined
  unavailable: string | undefined
  output: () => string
}

function startNodeProcess(args: string[]): Promise<Started> {
  const child = spawn(path.join(repoRoot, 'bin', 'teleport'), ['start', ...args], {stdio: ['ignore', 'pipe', 'pipe'], env: {...process.env, NO_COLOR: '1'}})
  let output = ''
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve({child, port: undefined, unavailable: undefined, output: () => output}), TIMEOUT_MS)
    const onData = (d: Buffer) => {
      output += d.toString()
      const port = /Node service is starting on 127\.0\.0\.1:(\d+)\./.exec(output)?.[1]
      if (port) {
        clearTimeout(timer)
        resolve({child, port: Number(port), unavailable: undefined, output: () => output})
      }
    }
    child.stdout!.on('data', onData)
    child.stderr!.on('data', onData)
    child.once('exit', () => {
      clearTimeout(timer)
      const unavailable = /not available in this version/.test(output) ? output.trim() : undefined
      resolve({child, port: undefined, unavailable, output: () => output})
    })
  })
}

async function stop(started: Started | undefined): Promise<number | null> {
  if (!started || started.child.exitCode !== null) return started?.child.exitCode ?? null
  const exited = new Promise<number | null>((resolve) => started.child.once('exit', (code) => resolve(code)))
  started.child.kill('SIGTERM')
  return exited
}

describe('teleport start --roles=node', {timeout: 6 * TIMEOUT_MS}, () => {
  let cluster: TestCluster
  let dir: string
  let dataDir: string
  let configFile: string
  let frank: UserKey
  let knownHosts: string
  const running: Started[] = []

  before(async () => {
    cluster = await startCluster()
    dir = tempDir('proc')
    dataDir = path.join(dir, 'data')
    configFile = path.join(dir, 'teleport.yaml')
    // Port 0 (any free port) needs the config file; everything else comes from the flags.
    writeFileSync(configFile, 'ssh_service:\n  enabled: true\n  listen_addr: 127.0.0.1:0\n  commands:\n  - {name: kernel, command: [uname, -s], period: 1h}\n')
    await cluster.admin.upsertRole({kind: 'role', version: 'v5', metadata: {name: 'proc'}, spec: {allow: {logins: ['root'], node_labels: {env: 'proc'}}}}, {create: true})
    await cluster.admin.createUser({name: 'frank', roles: ['proc'], traits: {}})
    frank = await userCert(cluster, dir, 'frank')
    knownHosts = knownHostsFile(dir, cluster.hostCA)
  })

  after(async () => {
    for (const started of running) await stop(started)
    await cluster?.close()
    if (dir) rmSync(dir, {recursive: true, force: true})
  })

  test('joins with token and pin, serves SSH, stops on SIGTERM; restarts without the token', async (t) => {
    const {token} = await cluster.admin.addToken({roles: ['node'], ttlMs: 5 * 60_000})
    const common = ['--config', configFile, '--roles=node', '--data-dir', dataDir, '--nodename', 'proc-node', '--labels=env=proc', '--auth-server', `127.0.0.1:${cluster.port}`]
    const first = await startNodeProcess([...common, '--token', token, '--ca-pin', cluster.caPin])
    running.push(first)
    if (first.unavailable) return t.skip(`the supervisor does not run the node role yet: ${first.unavailable.split('\n').pop()}`)
    assert.ok(first.port, first.output())
    const r = await run('ssh', [...sshOptions(frank, knownHosts, first.port), 'root@127.0.0.1', 'echo from-the-process'])
    assert.equal(r.code, 0, r.stderr + first.output())
    assert.equal(r.stdout.trim(), 'from-the-process')
    const node = (await cluster.admin.listNodes()).find((n) => n.hostname === 'proc-node')
    assert.ok(node, 'the node announced itself')
    assert.equal(node.labels.env, 'proc')
    assert.equal(node.cmdLabels.kernel?.result, 'Linux')
    assert.equal(await stop(first), 0, first.output())

    const second = await startNodeProcess(common)
    running.push(second)
    assert.ok(second.port, second.output())
    const again = await run('ssh', [...sshOptions(frank, knownHosts, second.port), 'root@127.0.0.1', 'echo again'])
    assert.equal(again.stdout.trim(), 'again', again.stderr)
    assert.equal(await stop(second), 0, second.output())
  })

  test('a wrong pin fails with one clear line', async (t) => {
    const {token} = await cluster.admin.addToken({roles: ['node'], ttlMs: 5 * 60_000})
    const started = await startNodeProcess(['--config', configFile, '--roles=node', '--data-dir', path.join(dir, 'data-wrong-pin'), '--nodename', 'wrong-pin', '--auth-server', `127.0.0.1:${cluster.port}`, '--token', token, '--ca-pin', 'sha256:' + '0'.repeat(64)])
    running.push(started)
    if (started.unavailable) return t.skip('the supervisor does not run the node role yet')
    assert.equal(started.port, undefined)
    assert.match(started.output(), /the cluster's CA pin is sha256:[0-9a-f]{64}, which does not match --ca-pin sha256:0{64}/)
    assert.notEqual(started.child.exitCode, 0)
  })
})
