import assert from 'node:assert/strict'
import {spawn, spawnSync, type ChildProcess} from 'node:child_process'
import {randomBytes} from 'node:crypto'
import {chmodSync, rmSync, statSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {after, before, describe, test} from 'node:test'
import type {AuthApi} from '../../../src/api/auth-api.js'
import {startNodeService, type RunningNodeService} from '../../../src/daemon/node/node-service.js'
import {TIMEOUT_MS, knownHostsFile, memoryLogger, nodeIdentity, run, sshOptions, startCluster, startSshAgent, tempDir, userCert, type TestCluster, type UserKey} from './helpers.js'

// A root node forwarding an agent to an unprivileged login must not let that login turn the
// socket path into a symlink and have root chown/chmod whatever it points at (a root-owned file
// became the user's within 50 sessions before the fix). The login here is a throwaway OS user
// with a real shell; while sessions come and go, a loop running as that user keeps trying to
// swap every agent socket for a symlink to a root-owned file.

const ROUNDS = 30

function skipReason(): string | false {
  if (process.getuid?.() !== 0) return 'needs root: the node must run as root and serve another login'
  if (spawnSync('useradd', ['--help'], {stdio: 'ignore'}).status !== 0) return 'needs useradd to make a throwaway login'
  if (!sharedTempDir()) return `the temp dir ${tmpdir()} is closed to other users, and so is /var/tmp: no login but root could reach its agent`
  return false
}

/**
 * Forwarded agents live under the temp dir, as OpenSSH's do, so a login must be able to enter it.
 * Some machines close /tmp to all but root; /var/tmp is then used (TMPDIR, for this suite).
 */
function sharedTempDir(): string | undefined {
  return [tmpdir(), '/var/tmp'].find((dir) => (statSync(dir, {throwIfNoEntry: false})?.mode ?? 0) & 0o001)
}

describe('agent forwarding on a root node, raced by the login user', {timeout: 12 * TIMEOUT_MS, skip: skipReason()}, () => {
  const savedTmpdir = process.env.TMPDIR
  before(() => void (process.env.TMPDIR = sharedTempDir()))
  after(() => void (savedTmpdir === undefined ? delete process.env.TMPDIR : (process.env.TMPDIR = savedTmpdir)))
  const login = `tpagent${randomBytes(3).toString('hex')}`
  let uid: number
  let cluster: TestCluster
  let node: RunningNodeService
  let nodeApi: AuthApi
  let dir: string
  let knownHosts: string
  let mallory: UserKey
  let agent: Awaited<ReturnType<typeof startSshAgent>> | undefined
  let attacker: ChildProcess | undefined
  let target: string

  before(async () => {
    const added = spawnSync('useradd', ['--system', '--no-create-home', '--home-dir', '/', '--shell', '/bin/sh', login], {encoding: 'utf8'})
    assert.equal(added.status, 0, added.stderr)
    uid = Number(spawnSync('id', ['-u', login], {encoding: 'utf8'}).stdout.trim())
    cluster = await startCluster()
    dir = tempDir('agent-race')
    knownHosts = knownHostsFile(dir, cluster.hostCA)
    await cluster.admin.upsertRole({kind: 'role', version: 'v5', metadata: {name: 'fwd'}, spec: {options: {forward_agent: true}, allow: {logins: [login], node_labels: {'*': '*'}}}}, {create: true})
    await cluster.admin.createUser({name: 'mallory', roles: ['fwd'], traits: {}})
    mallory = await userCert(cluster, dir, 'mallory')
    const handed = await nodeIdentity(cluster, '7b7b7b7b-0000-4000-8000-00000000a9e7', 'race-node')
    nodeApi = handed.authApi
    node = await startNodeService({dataDir: tempDir('agent-race-node'), nodeName: 'race-node', listen: {host: '127.0.0.1', port: 0}, labels: {}, commands: [], log: memoryLogger(), cluster: handed})
    agent = await startSshAgent([mallory.keyPath])
    // What the attacker wants: a root-owned file, to become theirs (or world-readable).
    target = path.join(dir, 'root-secret')
    writeFileSync(target, 'root only\n', {mode: 0o600})
    chmodSync(target, 0o600)
  })

  after(async () => {
    attacker?.kill('SIGKILL')
    agent?.stop()
    await node?.close()
    await nodeApi?.close()
    await cluster?.close()
    rmSync(dir, {recursive: true, force: true})
    spawnSync('userdel', [login], {stdio: 'ignore'})
  })

  const session = (command: string) =>
    run('ssh', [...sshOptions(mallory, knownHosts, node.address.port).map((o) => (o === 'IdentityAgent=none' ? `IdentityAgent=${agent!.sock}` : o)), '-A', `${login}@127.0.0.1`, command], {env: agent!.env})

  test('the socket directory stays root\'s and unwritable by the login; the socket is the login\'s alone and works', async () => {
    const r = await session('d=$(dirname "$SSH_AUTH_SOCK"); stat -c "%u %a" "$d" "$SSH_AUTH_SOCK"; touch "$d/planted" 2>/dev/null && echo planted; ssh-add -l')
    assert.equal(r.code, 0, r.stderr)
    const [dirLine, sockLine] = r.stdout.split('\n')
    assert.equal(dirLine, '0 711', 'the directory holding the socket is owned by root, mode 0711')
    assert.equal(sockLine, `${uid} 600`, 'the socket belongs to the login, mode 0600')
    assert.doesNotMatch(r.stdout, /^planted$/m, 'the login cannot create files beside the socket')
    assert.match(r.stdout, /ED25519/, 'the forwarded agent answers the login')
  })

  test(`${ROUNDS} sessions while the login races to swap the socket for a symlink: the root-owned file stays root's`, async () => {
    // As the login: swap every agent socket in sight for a symlink to the target, as fast as possible.
    const loop = `while :; do for s in /tmp/teleport-agent-*/agent.*; do mv -f "$s" "$s.old" 2>/dev/null; ln -sf ${target} "$s" 2>/dev/null; done; done`
    attacker = spawn('setpriv', ['--reuid', String(uid), '--regid', String(uid), '--clear-groups', '--', '/bin/sh', '-c', loop], {stdio: 'ignore'})
    let worked = 0
    for (let i = 0; i < ROUNDS; i++) {
      const r = await session('ssh-add -l >/dev/null && echo agent-ok')
      if (/agent-ok/.test(r.stdout)) worked++
    }
    attacker.kill('SIGKILL')
    const st = statSync(target)
    assert.equal(st.uid, 0, 'the target is still owned by root')
    assert.equal(st.mode & 0o777, 0o600, 'the target keeps its mode')
    assert.equal(worked, ROUNDS, 'every session still had a working agent (the attacker could not replace a socket)')
  })
})
