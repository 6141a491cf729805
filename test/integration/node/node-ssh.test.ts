import assert from 'node:assert/strict'
import {createHash, randomBytes} from 'node:crypto'
import {spawn} from 'node:child_process'
import {readFileSync, rmSync, writeFileSync} from 'node:fs'
import {once} from 'node:events'
import http from 'node:http'
import net from 'node:net'
import type {AddressInfo} from 'node:net'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {after, before, describe, test} from 'node:test'
import ssh2 from 'ssh2'
import type {AuthApi} from '../../../src/api/auth-api.js'
import {startNodeService, type RunningNodeService} from '../../../src/daemon/node/node-service.js'
import {generateKeyPair, signUserCert} from '../../../src/sshca/index.js'
import {
  CLUSTER,
  TIMEOUT_MS,
  eventually,
  knownHostsFile,
  memoryLogger,
  nodeIdentity,
  run,
  sshOptions,
  startCluster,
  startSshAgent,
  tempDir,
  userCert,
  writeUserKey,
  type TestCluster,
  type UserKey,
} from './helpers.js'

// The node service on a real auth service, driven by stock OpenSSH (ssh, scp, sftp): the node is
// the server. It runs in this process as a one-process cluster would run it (identity and AuthApi
// handed over), with static and command labels.

const HOST_ID = '5f0c8a8e-1111-4222-8333-944445555666'
const NODE_NAME = 'node-1'

describe('node service with OpenSSH clients', {timeout: 20 * TIMEOUT_MS}, () => {
  let cluster: TestCluster
  let node: RunningNodeService
  let nodeApi: AuthApi
  let dir: string
  let nodeData: string | undefined
  let knownHosts: string
  let alice: UserKey
  let bob: UserKey
  const log = memoryLogger()

  const ssh = (key: UserKey, args: string[], input?: string) => run('ssh', [...sshOptions(key, knownHosts, node.address.port), ...args], input === undefined ? {} : {input})
  const spawnSsh = (key: UserKey, args: string[]) => spawn('ssh', [...sshOptions(key, knownHosts, node.address.port), ...args], {stdio: 'ignore'})
  const events = async (types: string[]) => {
    await node.flushAudit()
    return cluster.admin.searchEvents({from: new Date(Date.now() - 600_000), to: new Date(Date.now() + 60_000), types}).then((page) => page.events)
  }

  before(async () => {
    cluster = await startCluster()
    dir = tempDir('ssh')
    knownHosts = knownHostsFile(dir, cluster.hostCA)
    await cluster.admin.upsertRole(
      {kind: 'role', version: 'v5', metadata: {name: 'ops'}, spec: {options: {port_forwarding: true, forward_agent: true}, allow: {logins: ['root'], node_labels: {env: 'test'}}}},
      {create: true},
    )
    await cluster.admin.upsertRole(
      {kind: 'role', version: 'v5', metadata: {name: 'noforward'}, spec: {options: {port_forwarding: false}, allow: {logins: ['root'], node_labels: {'*': '*'}}}},
      {create: true},
    )
    await cluster.admin.createUser({name: 'alice', roles: ['ops'], traits: {}})
    await cluster.admin.createUser({name: 'bob', roles: ['noforward'], traits: {}})
    alice = await userCert(cluster, dir, 'alice')
    bob = await userCert(cluster, dir, 'bob')
    const handed = await nodeIdentity(cluster, HOST_ID, NODE_NAME)
    nodeApi = handed.authApi
    node = await startNodeService({
      dataDir: (nodeData = tempDir('nodedata')),
      nodeName: NODE_NAME,
      listen: {host: '127.0.0.1', port: 0},
      labels: {env: 'test'},
      commands: [{name: 'kernel', command: ['uname', '-s'], periodMs: 3600_000}],
      log,
      cluster: handed,
    })
  })

  after(async () => {
    await node?.close()
    await nodeApi?.close()
    await cluster?.close()
    if (dir) rmSync(dir, {recursive: true, force: true})
    if (nodeData) rmSync(nodeData, {recursive: true, force: true})
  })

  test('runs a command as the login; the exit status comes back', async () => {
    const r = await ssh(alice, ['root@127.0.0.1', 'id -un'])
    assert.equal(r.code, 0, r.stderr)
    assert.equal(r.stdout.trim(), 'root')
    const seven = await ssh(alice, ['root@127.0.0.1', 'exit 7'])
    assert.equal(seven.code, 7, seven.stderr)
  })

  test('a pty when asked (-tt), with TERM; none otherwise', async () => {
    const withPty = await ssh(alice, ['-tt', 'root@127.0.0.1', 'tty; echo "TERM=$TERM"; echo "SSH_TTY=$SSH_TTY"'])
    assert.equal(withPty.code, 0, withPty.stderr)
    assert.match(withPty.stdout, /^\/dev\/pts\/\d+\r?$/m)
    assert.match(withPty.stdout, /^SSH_TTY=\/dev\/pts\/\d+\r?$/m)
    const without = await ssh(alice, ['-T', 'root@127.0.0.1', 'tty'])
    assert.equal(without.code, 1)
    assert.match(without.stdout, /not a tty/)
  })

  test('the login environment; LANG and LC_* pass, others do not', async () => {
    const r = await ssh(alice, ['-o', 'SetEnv=LANG=C.UTF-8 LC_TIME=C FOO=bar', 'root@127.0.0.1', 'echo "$HOME|$USER|$LOGNAME|$SHELL|$LANG|$LC_TIME|${FOO-unset}|$PWD"; echo "$SSH_CLIENT"; echo "$SSH_CONNECTION"; echo "$PATH"'])
    assert.equal(r.code, 0, r.stderr)
    const [first, client, connection, pathLine] = r.stdout.trim().split('\n')
    assert.equal(first, '/root|root|root|/bin/bash|C.UTF-8|C|unset|/root')
    assert.match(client!, /^127\.0\.0\.1 \d+ \d+$/)
    assert.match(connection!, /^127\.0\.0\.1 \d+ 127\.0\.0\.1 \d+$/)
    assert.match(pathLine!, /\/usr\/bin/)
  })

  test('stdin reaches the program and its EOF ends it; stderr stays separate', async () => {
    const r = await ssh(alice, ['root@127.0.0.1', 'cat; echo done >&2'], 'line one\nline two\n')
    assert.equal(r.code, 0, r.stderr)
    assert.equal(r.stdout, 'line one\nline two\n')
    assert.match(r.stderr, /^done$/m)
  })

  test('a program killed by a signal reports it', async () => {
    const r = await ssh(alice, ['root@127.0.0.1', 'kill -TERM $$'])
    // OpenSSH's ssh ignores exit-signal and exits 255 (the signal's name is checked with ssh2 below).
    assert.equal(r.code, 255)
  })

  test('sftp put and get are byte-exact', async () => {
    const local = path.join(dir, 'payload.bin')
    const data = randomBytes(300_000)
    writeFileSync(local, data)
    const remote = path.join(dir, 'remote-sftp.bin')
    const back = path.join(dir, 'back-sftp.bin')
    const batch = path.join(dir, 'batch')
    writeFileSync(batch, `put ${local} ${remote}\nget ${remote} ${back}\n`)
    const opts = sshOptions(alice, knownHosts, node.address.port).map((o) => (o === '-p' ? '-P' : o))
    const r = await run('sftp', [...opts, '-b', batch, 'root@127.0.0.1'])
    assert.equal(r.code, 0, r.stderr)
    assert.equal(sha(readFileSync(remote)), sha(data))
    assert.equal(sha(readFileSync(back)), sha(data))
  })

  test('scp (SFTP mode) and legacy scp -O are byte-exact; scp -O is audited', async () => {
    const local = path.join(dir, 'scp.bin')
    const data = randomBytes(200_000)
    writeFileSync(local, data)
    const opts = sshOptions(alice, knownHosts, node.address.port).map((o) => (o === '-p' ? '-P' : o))
    for (const mode of [[], ['-O']]) {
      const remote = path.join(dir, `remote-scp${mode.join('')}.bin`)
      const back = path.join(dir, `back-scp${mode.join('')}.bin`)
      const up = await run('scp', [...opts, ...mode, local, `root@127.0.0.1:${remote}`])
      assert.equal(up.code, 0, up.stderr)
      const down = await run('scp', [...opts, ...mode, `root@127.0.0.1:${remote}`, back])
      assert.equal(down.code, 0, down.stderr)
      assert.equal(sha(readFileSync(remote)), sha(data))
      assert.equal(sha(readFileSync(back)), sha(data))
    }
    const scp = await events(['scp'])
    const upload = scp.find((e) => e.code === 'T3005I' && e.path === path.join(dir, 'remote-scp-O.bin'))
    const download = scp.find((e) => e.code === 'T3004I' && e.path === path.join(dir, 'remote-scp-O.bin'))
    assert.ok(upload, JSON.stringify(scp))
    assert.ok(download, JSON.stringify(scp))
    assert.equal(upload.user, 'alice')
    assert.equal(upload.login, 'root')
  })

  test('-L forwarding carries an HTTP request (permit-port-forwarding)', async () => {
    const server = http.createServer((req, res) => res.end(`hello from ${req.url}`))
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    const target = (server.address() as AddressInfo).port
    const localPort = await freePort()
    const tunnel = spawnSsh(alice, ['-N', '-o', 'ExitOnForwardFailure=yes', '-L', `127.0.0.1:${localPort}:127.0.0.1:${target}`, 'root@127.0.0.1'])
    try {
      const body = await eventually(() => httpGet(`http://127.0.0.1:${localPort}/through-the-tunnel`).catch(() => undefined), 'the -L tunnel')
      assert.equal(body, 'hello from /through-the-tunnel')
    } finally {
      tunnel.kill('SIGTERM')
      server.close()
    }
    const ports = await events(['port'])
    assert.ok(ports.some((e) => e.code === 'T3003I' && e.addr === `127.0.0.1:${target}` && e.user === 'alice'), JSON.stringify(ports))
  })

  test('-R forwarding: the node listens and connections come back to the client', async () => {
    const server = http.createServer((req, res) => res.end('hello from the client side'))
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    const target = (server.address() as AddressInfo).port
    const remotePort = await freePort()
    const tunnel = spawnSsh(alice, ['-N', '-o', 'ExitOnForwardFailure=yes', '-R', `${remotePort}:127.0.0.1:${target}`, 'root@127.0.0.1'])
    try {
      const body = await eventually(() => httpGet(`http://127.0.0.1:${remotePort}/`).catch(() => undefined), 'the -R tunnel')
      assert.equal(body, 'hello from the client side')
    } finally {
      tunnel.kill('SIGTERM')
      server.close()
    }
  })

  test('a role without port_forwarding gets forwarding refused (and audited)', async () => {
    const server = http.createServer((req, res) => res.end('should not be reached'))
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    const target = (server.address() as AddressInfo).port
    try {
      const r = await ssh(bob, ['-W', `127.0.0.1:${target}`, 'root@127.0.0.1'], 'GET / HTTP/1.0\r\n\r\n')
      assert.notEqual(r.code, 0)
      assert.match(r.stderr, /administratively prohibited|open failed/)
      assert.doesNotMatch(r.stdout, /should not be reached/)
      // Commands still work for bob.
      const ok = await ssh(bob, ['root@127.0.0.1', 'echo fine'])
      assert.equal(ok.stdout.trim(), 'fine')
    } finally {
      server.close()
    }
    const ports = await events(['port'])
    assert.ok(ports.some((e) => e.code === 'T3003E' && e.user === 'bob' && /not permitted/.test(String(e.error))), JSON.stringify(ports))
  })

  test('agent forwarding (-A) when the role allows it: ssh-add -l on the node lists the client key', async () => {
    const agent = await startSshAgent([alice.keyPath])
    const env = agent.env
    try {
      const opts = withoutOption(sshOptions(alice, knownHosts, node.address.port), 'IdentityAgent=none')
      const r = await run('ssh', [...opts, '-A', 'root@127.0.0.1', 'echo "sock=$SSH_AUTH_SOCK"; stat -c %a "$(dirname "$SSH_AUTH_SOCK")"; ssh-add -l'], {env})
      assert.equal(r.code, 0, r.stderr)
      assert.match(r.stdout, new RegExp(`^sock=${tmpdir()}/teleport-agent-`, 'm'))
      // root node: the directory stays root's (0711), only the socket is the login's
      assert.match(r.stdout, /^711$/m)
      assert.match(r.stdout, /ED25519/)
      // bob's role does not allow it: no socket.
      const b = await run('ssh', [...sshOptions(bob, knownHosts, node.address.port), '-A', 'root@127.0.0.1', 'echo "sock=${SSH_AUTH_SOCK-none}"'], {env})
      assert.match(b.stdout, /^sock=none$/m)
    } finally {
      agent.stop()
    }
  })

  test('a login that is not in the certificate is refused, told "access denied", and audited', async () => {
    const r = await ssh(alice, ['nobody@127.0.0.1', 'true'])
    assert.equal(r.code, 255)
    assert.match(r.stderr, /access denied/)
    assert.match(r.stderr, /Permission denied/)
    const refusals = await events(['auth'])
    const refusal = refusals.find((e) => e.code === 'T3007W' && e.user === 'alice' && e.login === 'nobody')
    assert.ok(refusal, JSON.stringify(refusals))
    assert.match(String(refusal.error), /principal|not allowed|nobody/)
    assert.match(String(refusal['addr.remote']), /^127\.0\.0\.1:\d+$/)
  })

  test('RBAC: a role whose node_labels do not match this node is refused', async () => {
    await cluster.admin.upsertRole({kind: 'role', version: 'v5', metadata: {name: 'prod-only'}, spec: {allow: {logins: ['root'], node_labels: {env: 'prod'}}}}, {create: true})
    await cluster.admin.createUser({name: 'carol', roles: ['prod-only'], traits: {}})
    const carol = await userCert(cluster, dir, 'carol')
    const r = await ssh(carol, ['root@127.0.0.1', 'true'])
    assert.equal(r.code, 255)
    assert.match(r.stderr, /access denied/)
    const refusals = await events(['auth'])
    assert.ok(refusals.some((e) => e.user === 'carol' && /node_labels|labels/.test(String(e.error))), JSON.stringify(refusals))
  })

  test('an expired certificate is refused', async () => {
    const key = generateKeyPair()
    const ca = await cluster.service.auth.cas.get('user', CLUSTER, {withSecrets: true})
    const caPrivateKey = ca.activeKeys.find((k) => k.privateKey)!.privateKey!
    const now = new Date(Date.now() - 3 * 3600_000)
    const expired = signUserCert({caPrivateKey, publicKey: key.publicKey, keyId: 'alice', principals: ['root'], ttlMs: 3600_000, roles: ['ops'], traits: {}, routeToCluster: CLUSTER, now})
    const stale = writeUserKey(dir, 'alice-expired', key, expired)
    const r = await ssh(stale, ['root@127.0.0.1', 'true'])
    assert.equal(r.code, 255)
    assert.doesNotMatch(r.stderr, /access denied/)
    // Refused at the key query: audited once the connection has ended.
    const refusal = await eventually(async () => (await events(['auth'])).find((e) => e.user === 'alice' && /expired/.test(String(e.error))), 'the refusal')
    assert.equal(refusal.login, 'root')
  })

  test('a plain key (no certificate) is refused', async () => {
    const plain = writeUserKey(dir, 'plain', generateKeyPair())
    const r = await run('ssh', [...withoutOption(sshOptions(plain, knownHosts, node.address.port), `CertificateFile=${plain.certPath}`), 'root@127.0.0.1', 'true'])
    assert.equal(r.code, 255)
    assert.match(r.stderr, /Permission denied/)
    const refusal = await eventually(async () => (await events(['auth'])).find((e) => /plain ssh-ed25519 key/.test(String(e.error))), 'the refusal')
    assert.equal(refusal.user, '')
    assert.equal(refusal.login, 'root')
  })

  test('an agent holding a plain key and then the key+certificate (stock ssh -A): logged in, no banner, no refusal audited', async () => {
    const other = writeUserKey(dir, 'agent-plain', generateKeyPair())
    const agent = await startSshAgent([other.keyPath, alice.keyPath])
    const env = agent.env
    try {
      const listed = (await run('ssh-add', ['-L'], {env})).stdout.trim().split('\n')
      assert.deepEqual(listed.map((l) => l.split(' ')[0]), ['ssh-ed25519', 'ssh-ed25519', 'ssh-ed25519-cert-v01@openssh.com'])
      const before = {auth: (await events(['auth'])).length, disconnects: (await events(['client.disconnect'])).length}
      const opts = ['-F', '/dev/null', '-o', `UserKnownHostsFile=${knownHosts}`, '-o', 'GlobalKnownHostsFile=/dev/null', '-o', 'StrictHostKeyChecking=yes', '-o', 'BatchMode=yes', '-p', String(node.address.port)]
      const r = await run('ssh', [...opts, '-A', 'root@127.0.0.1', 'echo in'], {env})
      assert.equal(r.code, 0, r.stderr)
      assert.equal(r.stdout, 'in\n')
      assert.equal(r.stderr, '')
      // client.disconnect is emitted after the connection's refusals are settled.
      await eventually(async () => (await events(['client.disconnect'])).length > before.disconnects, 'the disconnect event')
      assert.equal((await events(['auth'])).length, before.auth, JSON.stringify((await events(['auth'])).slice(before.auth)))
    } finally {
      agent.stop()
    }
  })

  test('"none", password and keyboard-interactive are refused and audited once per connection', async () => {
    const attempt = async (methods: object[]) => {
      const sock = net.connect(node.address.port, '127.0.0.1')
      await once(sock, 'connect')
      const remote = `127.0.0.1:${sock.localPort}`
      const client = new ssh2.Client()
      const failed = once(client, 'error')
      client.connect({sock, username: 'pwtest', hostVerifier: () => true, readyTimeout: TIMEOUT_MS, authHandler: methods as never})
      const [err] = (await failed) as [Error]
      assert.match(err.message, /authentication methods failed/)
      client.end()
      await eventually(() => log.lines.some((l) => l.includes(`Connection from ${remote} closed without logging in.`)), 'the node to see the close')
      return (await events(['auth'])).filter((e) => e['addr.remote'] === remote)
    }
    const keyboard = {type: 'keyboard-interactive', username: 'pwtest', prompt: (_n: string, _i: string, _l: string, _p: unknown[], finish: (answers: string[]) => void) => finish([])}
    const password = {type: 'password', username: 'pwtest', password: 'hunter2'}
    const tried = await attempt([{type: 'none', username: 'pwtest'}, password, password, keyboard])
    assert.equal(tried.length, 1, JSON.stringify(tried))
    assert.equal(tried[0]!.code, 'T3007W')
    assert.equal(tried[0]!.login, 'pwtest')
    assert.equal(tried[0]!.user, '')
    assert.match(String(tried[0]!.error), /"password" method is not accepted/)
    assert.doesNotMatch(JSON.stringify(tried), /hunter2/)
    const noneOnly = await attempt([{type: 'none', username: 'pwtest'}])
    assert.equal(noneOnly.length, 1, JSON.stringify(noneOnly))
    assert.match(String(noneOnly[0]!.error), /"none" method/)
  })

  test('Teleport\'s session environment: SSH_TELEPORT_USER, SSH_SESSION_ID, host UUID, cluster, web proxy address', async () => {
    const r = await ssh(alice, ['root@127.0.0.1', 'env'])
    assert.equal(r.code, 0, r.stderr)
    const env = Object.fromEntries(r.stdout.trim().split('\n').map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]))
    assert.equal(env.SSH_TELEPORT_USER, 'alice')
    assert.equal(env.SSH_TELEPORT_HOST_UUID, HOST_ID)
    assert.equal(env.SSH_TELEPORT_CLUSTER_NAME, CLUSTER)
    assert.equal(env.SSH_SESSION_WEBPROXY_ADDR, 'proxy.example.com:3080')
    assert.match(env.SSH_SESSION_ID ?? '', /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/)
    // The session's id is the one its audit events carry.
    const starts = await eventually(async () => (await events(['session.start'])).filter((e) => e.sid === env.SSH_SESSION_ID), 'session.start')
    assert.equal(starts.length, 1)
  })

  test('sessions are audited: session.start, exec with its exit code, session.end, client.disconnect', async () => {
    const r = await ssh(alice, ['root@127.0.0.1', 'exit 3'])
    assert.equal(r.code, 3)
    const all = await events(['session.start', 'exec', 'session.end', 'client.disconnect'])
    const exec = all.filter((e) => e.event === 'exec' && e.command === 'exit 3').pop()
    assert.ok(exec, JSON.stringify(all))
    assert.equal(exec.code, 'T3002E')
    assert.equal(exec.exitCode, '3')
    assert.equal(exec.server_id, HOST_ID)
    assert.equal(exec.server_hostname, NODE_NAME)
    const sid = exec.sid
    assert.match(String(sid), /^[0-9a-f-]{36}$/)
    assert.ok(all.some((e) => e.code === 'T2000I' && e.sid === sid && e.login === 'root' && e.user === 'alice'))
    assert.ok(all.some((e) => e.code === 'T2004I' && e.sid === sid))
    const ok = all.find((e) => e.code === 'T3002I')
    assert.ok(ok, 'a successful exec is T3002I')
    assert.ok(all.some((e) => e.code === 'T3006I' && e.user === 'alice'))
  })

  test('a listen address in use is one clear error', async () => {
    const second = await nodeIdentity(cluster, '5f0c8a8e-1111-4222-8333-000000000002', 'node-dup')
    const data = tempDir('nodedup')
    try {
      await assert.rejects(
        startNodeService({dataDir: data, nodeName: 'node-dup', listen: {host: '127.0.0.1', port: node.address.port}, log: memoryLogger(), cluster: second}),
        new RegExp(`^UserError: cannot listen on 127\\.0\\.0\\.1:${node.address.port}: the address is already in use$`),
      )
    } finally {
      await second.authApi.close()
      rmSync(data, {recursive: true, force: true})
    }
  })

  test('the node record: static and command labels, heartbeat visible via listNodes', async () => {
    const nodes = await cluster.admin.listNodes()
    const me = nodes.find((n) => n.name === HOST_ID)
    assert.ok(me, JSON.stringify(nodes))
    assert.equal(me.hostname, NODE_NAME)
    assert.equal(me.addr, `127.0.0.1:${node.address.port}`)
    assert.deepEqual(me.labels, {env: 'test'})
    assert.equal(me.cmdLabels.kernel?.result, 'Linux')
    assert.deepEqual(me.cmdLabels.kernel?.command, ['uname', '-s'])
    assert.equal(me.cmdLabels.kernel?.period, '1h0m0s')
  })
})

function sha(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex')
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = http.createServer()
    srv.once('error', reject)
    srv.listen(0, '127.0.0.1', () => {
      const {port} = srv.address() as AddressInfo
      srv.close(() => resolve(port))
    })
  })
}

function httpGet(url: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, {timeout: 5000}, (res) => {
      let body = ''
      res.on('data', (d: Buffer) => (body += d.toString()))
      res.on('end', () => resolve(body))
    })
    req.on('error', reject)
    req.on('timeout', () => req.destroy(new Error('timeout')))
  })
}

/** The options without one `-o <value>` pair. */
function withoutOption(options: string[], value: string): string[] {
  const at = options.indexOf(value)
  return at < 1 ? options : [...options.slice(0, at - 1), ...options.slice(at + 1)]
}
